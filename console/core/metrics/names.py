"""The metric names we read: Triton's own (nv_*) and model.py's generation metrics (vllm:*).

model.py exports the official Triton vLLM backend's names (TEAM.md contract), so standard
dashboards work; the Grafana dashboard queries only names listed here.
"""

from __future__ import annotations

# Triton, per model (labels model, version); counters are cumulative since server start.
REQUEST_SUCCESS = "nv_inference_request_success"
REQUEST_FAILURE = "nv_inference_request_failure"  # + label reason
INFERENCE_COUNT = "nv_inference_count"
EXEC_COUNT = "nv_inference_exec_count"
REQUEST_DURATION_US = "nv_inference_request_duration_us"
QUEUE_DURATION_US = "nv_inference_queue_duration_us"
COMPUTE_INPUT_US = "nv_inference_compute_input_duration_us"
COMPUTE_INFER_US = "nv_inference_compute_infer_duration_us"
COMPUTE_OUTPUT_US = "nv_inference_compute_output_duration_us"
COMPUTE_US = (COMPUTE_INPUT_US, COMPUTE_INFER_US, COMPUTE_OUTPUT_US)
PENDING_REQUESTS = "nv_inference_pending_request_count"

# Triton, per GPU (label gpu_uuid); only on a server that sees a GPU.
GPU_POWER_W = "nv_gpu_power_usage"
GPU_POWER_LIMIT_W = "nv_gpu_power_limit"
GPU_UTILIZATION = "nv_gpu_utilization"  # 0.0-1.0
GPU_MEMORY_USED = "nv_gpu_memory_used_bytes"
GPU_MEMORY_TOTAL = "nv_gpu_memory_total_bytes"
GPU_ENERGY_J = "nv_energy_consumption"

# model.py generation metrics (labels model, version).
TTFT_S = "vllm:time_to_first_token_seconds"  # histogram
TPOT_S = "vllm:time_per_output_token_seconds"  # histogram
E2E_S = "vllm:e2e_request_latency_seconds"  # histogram
PROMPT_TOKENS = "vllm:prompt_tokens_total"
GENERATION_TOKENS = "vllm:generation_tokens_total"
REQUESTS_RUNNING = "vllm:num_requests_running"
REQUESTS_WAITING = "vllm:num_requests_waiting"

HISTOGRAMS = (TTFT_S, TPOT_S, E2E_S)


def exported() -> set[str]:
    """Every sample name a Triton server running our model.py can expose (histograms expanded)."""
    plain = {
        REQUEST_SUCCESS, REQUEST_FAILURE, INFERENCE_COUNT, EXEC_COUNT, REQUEST_DURATION_US,
        QUEUE_DURATION_US, *COMPUTE_US, PENDING_REQUESTS, GPU_POWER_W, GPU_POWER_LIMIT_W,
        GPU_UTILIZATION, GPU_MEMORY_USED, GPU_MEMORY_TOTAL, GPU_ENERGY_J, PROMPT_TOKENS,
        GENERATION_TOKENS, REQUESTS_RUNNING, REQUESTS_WAITING,
    }
    return plain | {f"{h}{suffix}" for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}


def counters() -> set[str]:
    """Cumulative sample names (they only go up, except when the server restarts)."""
    plain = {
        REQUEST_SUCCESS, REQUEST_FAILURE, INFERENCE_COUNT, EXEC_COUNT, REQUEST_DURATION_US,
        QUEUE_DURATION_US, *COMPUTE_US, GPU_ENERGY_J, PROMPT_TOKENS, GENERATION_TOKENS,
    }
    return plain | {f"{h}{suffix}" for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}
