"""A tiny decoupled model that streams the words of its input back: the shell's test server.

It accepts the optional inputs of the wire protocol (`stream`, `sampling_parameters`) and ignores them.
"""

import os
import site
import sys

# Our site dirs go FIRST: the stub's own Python may have numpy 2, which garbles BYTES inputs.
_before = list(sys.path)
for _d in os.environ.get("EXTRA_SITE_DIRS", "").split(os.pathsep):
    if _d:
        site.addsitedir(_d)
sys.path[:] = [p for p in sys.path if p not in _before] + _before

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402


class TritonPythonModel:
    def initialize(self, args):
        pass

    def execute(self, requests):
        for request in requests:
            sender = request.get_response_sender()
            text = pb_utils.get_input_tensor_by_name(request, "text_input").as_numpy().reshape(-1)[0].decode()
            for word in text.split():
                out = pb_utils.Tensor("text_output", np.array([word.encode()], dtype=np.object_))
                sender.send(pb_utils.InferenceResponse([out]))
            sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None
