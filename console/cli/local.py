"""`triton-console local`: start the real local Triton stack and keep it up until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from console.core.config import Config
from console.core.secrets import redact


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "local",
        help="start the real local Triton stack (SmolLM2 on CPU, vLLM on a GPU)",
        description="Start tritonserver 2.51 (nvidia-pytriton wheel) on a model repository generated from "
        "model_repository/: our model.py on SmolLM2-135M-Instruct as two sampling presets "
        "(smollm2-precise, smollm2-creative); vLLM when a GPU and vllm are present, transformers on CPU "
        "otherwise. Waits until every model is ready, prints where it listens, stops on Ctrl-C.",
    )
    add_stack_arguments(parser)
    parser.set_defaults(func=run)


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags `local` and `--local` share (defaults come from the [local] config section)."""
    parser.add_argument("--grpc-port", type=int, metavar="PORT", help="gRPC port (default 8001)")
    parser.add_argument("--http-port", type=int, metavar="PORT", help="HTTP port (default 8000)")
    parser.add_argument("--metrics-port", type=int, metavar="PORT", help="metrics port (default 8002)")
    parser.add_argument("--models", metavar="DIR", help="serve this model repository instead of the generated SmolLM2 one")
    parser.add_argument("--ready-timeout", type=float, default=600.0, metavar="S", help="seconds to wait for the models (default 600)")


def _ports(args: argparse.Namespace, cfg: Config):
    from console.core.tritonserver import Ports

    return Ports(
        grpc=getattr(args, "grpc_port", None) or cfg.local.grpc_port,
        http=getattr(args, "http_port", None) or cfg.local.http_port,
        metrics=getattr(args, "metrics_port", None) or cfg.local.metrics_port,
    )


@contextlib.contextmanager
def running_stack(args: argparse.Namespace, cfg: Config, out=sys.stderr) -> Iterator:
    """Start the stack, report progress on ``out``, always stop it on the way out."""
    from console.core import local_stack

    models = getattr(args, "models", None) or cfg.local.models or None
    ports = _ports(args, cfg)
    print(f"starting tritonserver on {'repository ' + str(models) if models else 'the generated SmolLM2 repository'} …", file=out, flush=True)
    timeout = getattr(args, "ready_timeout", None) or 600.0
    stack = local_stack.start(ports, Path(models) if models else None, timeout=timeout)
    try:
        yield stack
    finally:
        stack.stop()


def connect_config(cfg: Config, stack) -> Config:
    """The app's settings pointed at a running local stack and its models."""
    cfg.triton.url = stack.grpc_url
    cfg.triton.http_url = stack.http_url
    cfg.triton.metrics_url = stack.metrics_url
    cfg.triton.models = list(stack.models)
    return cfg


def run(args: argparse.Namespace, cfg: Config) -> int:
    from console.core.tritonserver import TritonServerError

    def terminate(signum, frame):  # SIGTERM stops cleanly too
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    ready = False  # an interrupt after this point is the normal way to stop, wherever it lands
    try:
        with running_stack(args, cfg) as stack:
            print(f"ready in {stack.ready_s:.1f}s — tritonserver (log: {stack.server.log_file})", flush=True)
            for line in stack.where():
                print(f"  {line}", flush=True)
            print(f"models: {', '.join(stack.models)}", flush=True)
            ready = True
            print("Ctrl-C stops it.", flush=True)
            watch = stack.watch(lambda line: print(redact(f"triton-console local: {line}"), file=sys.stderr, flush=True))
            while not watch.gave_up.wait(0.5):
                pass
            print(redact(f"tritonserver exited unexpectedly:\n{stack.server.relevant_log_lines()}"), file=sys.stderr)
            return 1
    except TritonServerError as exc:
        print(redact(f"triton-console local: {exc}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if ready:  # running_stack has stopped tritonserver by now
            print("stopped", flush=True)
            return 0
        print("interrupted before the stack was ready; stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run_app_on_local_stack(args: argparse.Namespace, cfg: Config) -> int:
    """`triton-console --local`: start the stack, open the app on it, stop the stack on exit."""
    from console.core.tritonserver import TritonServerError
    from console.tui.app import run_app

    try:
        with running_stack(args, cfg) as stack:
            print(f"ready in {stack.ready_s:.1f}s: {', '.join(stack.models)} on {stack.grpc_url}", file=sys.stderr, flush=True)
            # the app hears of a crashed and restarted server (console/core/server_watch.py)
            return run_app(connect_config(cfg, stack), on_app=lambda app: stack.watch(lambda line: tell_app(app, redact(line))))
    except TritonServerError as exc:
        print(redact(f"triton-console --local: {exc}"), file=sys.stderr)
        return 1


def tell_app(app, line: str) -> None:  # noqa: ANN001 - a running TritonConsoleApp
    """A line from the local server's watch, as a notification in the app (from its thread)."""
    try:
        app.call_from_thread(app.notify, line, title="local tritonserver", severity="warning", timeout=15)
    except RuntimeError:  # the app is not running (yet, or any more)
        print(line, file=sys.stderr, flush=True)
