"""A decoupled model that fails every request: moves Triton's failure counter.

Text "respond" fails through an error *response* (Triton counts that request as a success:
a decoupled model's execute() returned fine); anything else raises from execute(), which
Triton counts under nv_inference_request_failure{reason="BACKEND"}.
"""

import os
import site
import sys

_before = list(sys.path)
for _d in os.environ.get("EXTRA_SITE_DIRS", "").split(os.pathsep):
    if _d:
        site.addsitedir(_d)
sys.path[:] = [p for p in sys.path if p not in _before] + _before

import triton_python_backend_utils as pb_utils  # noqa: E402


class TritonPythonModel:
    def execute(self, requests):
        texts = [pb_utils.get_input_tensor_by_name(r, "text_input").as_numpy().reshape(-1)[0] for r in requests]
        if any(t != b"respond" for t in texts):
            raise pb_utils.TritonModelException("this test model fails every request")
        for request in requests:
            sender = request.get_response_sender()
            error = pb_utils.TritonError("this test model fails every request")
            sender.send(pb_utils.InferenceResponse(error=error), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None
