"""triton-console: a terminal operations console for Triton Inference Server + vLLM."""

__version__ = "0.1.0"
