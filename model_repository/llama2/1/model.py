"""Triton Python-backend model (decoupled) that streams chat completions.

One file serves every entry of model_repository/ (llama2/1/model.py and mistral7b/1/model.py are
identical copies; tests/test_model_repository.py fails when they differ). Everything the model
does is set by config.pbtxt ``parameters`` (see SETTINGS below and the README's table).

Engine: vLLM's AsyncLLM when vllm imports and a GPU is visible, otherwise transformers on the
CPU (one generation thread per request, cancellable between tokens); ``engine`` forces either.

Wire protocol: ``text_input`` (plain text or a JSON list of {role, content}, rendered with the
model's own chat template), ``stream``, ``sampling_parameters`` (JSON object), and
``exclude_input_in_output`` in; ``text_output`` (deltas when streaming), ``finish_reason``,
``num_input_tokens``, ``num_output_tokens`` (tokens in this response) out. Bad input gets an
error response and the model keeps serving; a cancelled or dropped client aborts generation.
Responses go out on the model's own sender threads (``Outbox``), never on vLLM's event loop.
"""

import os
import site
import sys

# The stub's embedded Python ignores PYTHONPATH and may carry numpy 2 (which garbles BYTES
# inputs in some stubs): our site dirs go first on sys.path, before numpy is imported.
# STUB_SITE_DIRS are for this stub alone (numpy<2 for such a stub): a spawned engine core
# (engine_core_python) runs a plain python and does not get them; EXTRA_SITE_DIRS it does.
_STUB_SITES, _EXTRA_SITES = ([d for d in os.environ.get(v, "").split(os.pathsep) if d] for v in ("STUB_SITE_DIRS", "EXTRA_SITE_DIRS"))
_before = list(sys.path)
for _dir in _STUB_SITES + _EXTRA_SITES:
    site.addsitedir(_dir)
sys.path[:] = [p for p in sys.path if p not in _before] + _before

import asyncio  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import importlib.util  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import queue  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import numpy as np  # noqa: E402

if _STUB_SITES or _EXTRA_SITES:
    # Modules the system Python built against another numpy break transformers' imports: hide
    # the ones that do not come from our site dirs (transformers treats them as absent).
    for _name in ("scipy", "sklearn", "pandas"):
        _spec = importlib.util.find_spec(_name)
        if _spec and _spec.origin and not any(_spec.origin.startswith(d) for d in _STUB_SITES + _EXTRA_SITES):
            sys.modules[_name] = None

import triton_python_backend_utils as pb_utils  # noqa: E402

# name -> (type, default). Every engine setting lives in config.pbtxt and is honoured here.
SETTINGS = {
    "model": (str, ""),  # HF model id or local directory
    "gguf_file": (str, ""),  # a GGUF file inside `model` (transformers gguf_file=; vLLM gets the file path)
    "tokenizer": (str, ""),  # HF id or directory of the tokenizer; default: the model's
    "engine": (str, "auto"),  # auto | vllm | transformers
    "dtype": (str, "auto"),  # auto | float16 | bfloat16 | float32
    "max_model_len": (int, 4096),  # prompt + generated tokens
    "max_prompt_tokens": (int, 3072),  # longer rendered prompts are refused
    "gpu_memory_utilization": (float, 0.45),  # vLLM; two models share one GPU
    "tensor_parallel_size": (int, 1),  # vLLM
    "cuda_visible_devices": (str, ""),  # vLLM: the GPU(s) this model uses, e.g. "1"; empty = all visible
    "enforce_eager": (bool, False),  # vLLM: no CUDA graphs
    "max_num_seqs": (int, 64),  # vLLM: concurrent sequences
    "stream_interval": (int, 1),  # vLLM: a response every N tokens (first and last at once); 1 = every token
    "response_threads": (int, 4),  # threads that send responses (a job always sends on the same one)
    "engine_core_cpus": (str, ""),  # vLLM: CPUs for the engine-core process alone, e.g. "7,15"; empty = no pinning
    "engine_core_python": (str, "auto"),  # vLLM: auto | fork | the python binary that spawns the engine core
    "template_plain_text": (bool, True),  # plain text is sent as one user message through the chat template
    "default_max_tokens": (int, 256),
    "default_temperature": (float, 0.7),
    "default_top_p": (float, 0.95),
    "cpu_max_concurrent": (int, 1),  # transformers: generations at once (others wait)
    "cpu_threads": (int, 0),  # transformers: torch threads (0 = torch's default)
}
ENGINES = ("auto", "vllm", "transformers")
# sampling_parameters key -> (type, check, what it must be)
SAMPLING = {
    "max_tokens": (int, lambda v: v >= 1, "an integer >= 1"),
    "temperature": (float, lambda v: v >= 0, "a number >= 0 (0 = greedy)"),
    "top_p": (float, lambda v: 0 < v <= 1, "a number in (0, 1]"),
    "top_k": (int, lambda v: v >= 0, "an integer >= 0 (0 = off)"),
    "repetition_penalty": (float, lambda v: v > 0, "a number > 0"),
    "seed": (int, lambda v: v >= 0, "an integer >= 0"),
    "stop": (list, lambda v: all(isinstance(s, str) and s for s in v), "a string or a list of non-empty strings"),
    "ignore_eos": (bool, lambda v: True, "true or false"),
}
ROLES = ("system", "user", "assistant")
CANCEL_CHECK_S = 0.05  # a streaming job asks tritonserver whether it was cancelled at most this often
TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0]
TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0]
E2E_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0]


class BadRequest(ValueError):
    """The request cannot be served as sent; the message tells the client why."""


def to_bool(value, what):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"{what} must be true or false, not {value!r}")


def to_int(value, what):
    if isinstance(value, bool):
        raise ValueError(f"{what} must be an integer, not {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{what} must be an integer, not {value!r}")
    try:
        return int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be an integer, not {value!r}") from None


def to_float(value, what):
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, not {value!r}")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if result != result or result in (float("inf"), float("-inf")):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return result


CONVERT = {bool: to_bool, int: to_int, float: to_float, str: lambda v, what: str(v)}


def parse_settings(parameters):
    """config.pbtxt parameters -> typed settings; unknown or malformed entries fail the load."""
    raw = {k: (v.get("string_value", "") if isinstance(v, dict) else str(v)) for k, v in parameters.items()}
    unknown = sorted(set(raw) - set(SETTINGS))
    if unknown:
        raise ValueError(f"unknown config.pbtxt parameters {unknown}; known: {sorted(SETTINGS)}")
    settings = {}
    for name, (kind, default) in SETTINGS.items():
        settings[name] = CONVERT[kind](raw[name], f"parameter {name}") if raw.get(name, "") != "" else default
    if not settings["model"]:
        raise ValueError("parameter model (an HF model id or a local directory) is required")
    if settings["engine"] not in ENGINES:
        raise ValueError(f"parameter engine must be one of {ENGINES}, not {settings['engine']!r}")
    if settings["stream_interval"] < 1:
        raise ValueError("parameter stream_interval must be >= 1 (1 = a response for every token)")
    if settings["response_threads"] < 1:
        raise ValueError("parameter response_threads must be >= 1")
    if settings["engine_core_cpus"]:
        parse_cpus(settings["engine_core_cpus"], "parameter engine_core_cpus")
    if settings["engine_core_python"] not in ("auto", "fork"):
        check_python(settings["engine_core_python"], "parameter engine_core_python")
    if not 0 < settings["max_prompt_tokens"] < settings["max_model_len"]:
        raise ValueError("parameter max_prompt_tokens must be between 1 and max_model_len - 1")
    if not 1 <= settings["default_max_tokens"] < settings["max_model_len"]:
        raise ValueError("parameter default_max_tokens must be between 1 and max_model_len - 1")
    return settings


def parse_cpus(text, what):
    """'7,15' or '6-7' -> a set of CPU numbers this process may use, leaving it at least one."""
    cpus = set()
    for part in text.replace(" ", "").split(","):
        first, dash, last = part.partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            raise ValueError(f"{what} must list CPUs like '7,15' or '6-7', not {text!r}") from None
        if not 0 <= low <= high:
            raise ValueError(f"{what} must list CPUs like '7,15' or '6-7', not {text!r}")
        cpus.update(range(low, high + 1))
    usable = os.sched_getaffinity(0)
    if not cpus <= usable:
        raise ValueError(f"{what}: CPUs {sorted(cpus - usable)} are not usable here (usable: {sorted(usable)})")
    if cpus == usable:
        raise ValueError(f"{what} must leave at least one CPU for the rest of the model (usable: {sorted(usable)})")
    return cpus


PY_VERSION = "%d.%d" % sys.version_info[:2]  # what a python spawning the engine core must run
PROBE = "import sys; print('%d.%d' % sys.version_info[:2], any('libpython' in m for m in open('/proc/self/maps')))"


def loads_shared_libpython():
    """Whether this process runs Python from a shared libpython (an embedding host such as the stub)."""
    with open("/proc/self/maps") as fh:
        return any("libpython" in line for line in fh)


def probe_python(path):
    """(version "3.12", loads a shared libpython) of the python at ``path``; raises OSError when it
    does not run or answers something else."""
    import subprocess

    try:
        run = subprocess.run([path, "-I", "-c", PROBE], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as exc:
        raise OSError(f"no answer in {exc.timeout:.0f}s") from None
    version, _, shared = run.stdout.strip().partition(" ")
    if run.returncode != 0 or shared not in ("True", "False"):
        raise OSError(f"answered {run.stdout.strip() or run.stderr.strip()[-200:] or run.returncode!r}")
    return version, shared == "True"


def check_python(path, what):
    """``path`` must run this Python's version: a spawned engine core unpickles this process's
    objects and imports the same modules from the same sys.path."""
    if not (os.path.isabs(path) and os.path.isfile(path) and os.access(path, os.X_OK)):
        raise ValueError(f"{what} must be auto, fork or the absolute path of a python executable, not {path!r}")
    try:
        theirs, _ = probe_python(path)
    except OSError as exc:
        raise ValueError(f"{what}: {path} did not run as python: {exc}") from None
    if theirs != PY_VERSION:
        raise ValueError(f"{what}: {path} is Python {theirs}, this model runs Python {PY_VERSION}")


def engine_core_python(setting):
    """The python that is to spawn vLLM's engine core, or "" for vLLM's own start (a fork of this
    process). ``auto``: when this process runs Python from a shared libpython, the first python
    binary of the same version that does not (sys.executable, python3.X on PATH, /usr/bin,
    /usr/local/bin); none found, or already a static interpreter here: "" (a fork gains as much)."""
    if setting == "fork":
        return ""
    if setting != "auto":
        return setting
    if not loads_shared_libpython():
        return ""
    import shutil

    candidates = [sys.executable, getattr(sys, "_base_executable", ""), shutil.which(f"python{PY_VERSION}") or "",
                  f"/usr/bin/python{PY_VERSION}", f"/usr/local/bin/python{PY_VERSION}"]
    for path in dict.fromkeys(c for c in candidates if os.path.isabs(c) and os.access(c, os.X_OK)):
        with contextlib.suppress(OSError):
            if probe_python(path) == (PY_VERSION, False):
                return path
    return ""


@contextlib.contextmanager
def engine_core_spawned_by(python):
    """While vLLM starts: its engine core spawned by ``python`` instead of forked from this stub.
    A fork runs the stub's embedded interpreter, the shared libpython, which Debian and Ubuntu build
    slower than their statically linked python binaries (P4, docs/benchmarks.md); the engine core is
    one busy Python thread that sets the decode step rate. Empty ``python``: vLLM's own choice."""
    if not python:
        yield
        return
    import multiprocessing.spawn

    method, executable = os.environ.get("VLLM_WORKER_MULTIPROC_METHOD"), multiprocessing.spawn.get_executable()
    os.environ["VLLM_WORKER_MULTIPROC_METHOD"] = "spawn"
    multiprocessing.spawn.set_executable(python)
    path = list(sys.path)  # a spawned child starts from this process's sys.path, less the stub's own dirs
    sys.path[:] = [p for p in path if not any(p == d or p.startswith(os.path.join(d, "")) for d in _STUB_SITES)]
    try:
        yield
    finally:
        sys.path[:] = path
        multiprocessing.spawn.set_executable(executable)
        if method is None:
            os.environ.pop("VLLM_WORKER_MULTIPROC_METHOD", None)
        else:
            os.environ["VLLM_WORKER_MULTIPROC_METHOD"] = method


def engine_core_pids():
    """vLLM's engine-core processes started by this process (their process title says EngineCore)."""
    me, found = os.getpid(), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                parent = int(fh.read().rpartition(")")[2].split()[1])
            if parent != me:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                title = fh.read()
        except (OSError, ValueError, IndexError):
            continue
        if b"EngineCore" in title:
            found.append(int(pid))
    return found


def set_affinity(pid, cpus):
    """Every thread of ``pid`` onto ``cpus`` (sched_setaffinity moves one thread at a time)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):  # a thread that just ended
            os.sched_setaffinity(int(tid), cpus)


def pin_engine_core(cpus):
    """vLLM's engine core on ``cpus`` alone, and this process's own threads (vLLM's event loop,
    the outbox) off them. The core is one busy Python thread that sets the decode step rate; on the
    lent H200 host it made fewer steps per second beside tritonserver and the stub than alone
    (P4 section 8, docs/benchmarks.md). Returns the pinned pids (none: vLLM ran its core in-process)."""
    cores = engine_core_pids()
    for pid in cores:
        set_affinity(pid, cpus)
    if cores:
        set_affinity(os.getpid(), os.sched_getaffinity(0) - cpus)
    return cores


def parse_sampling(text, settings):
    """sampling_parameters JSON -> typed values with the config's defaults filled in."""
    values = {}
    if text is not None and text.strip():
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadRequest(f"sampling_parameters is not valid JSON: {exc}") from None
        if not isinstance(values, dict):
            raise BadRequest("sampling_parameters must be a JSON object, e.g. {\"max_tokens\": 64}")
    unknown = sorted(set(values) - set(SAMPLING))
    if unknown:
        raise BadRequest(f"unknown sampling parameter(s) {unknown}; known: {sorted(SAMPLING)}")
    sampling = {
        "max_tokens": settings["default_max_tokens"],
        "temperature": settings["default_temperature"],
        "top_p": settings["default_top_p"],
        "top_k": 0,
        "repetition_penalty": 1.0,
        "seed": None,
        "stop": [],
        "ignore_eos": False,
    }
    for key, value in values.items():
        kind, check, expected = SAMPLING[key]
        if value is None:
            continue
        try:
            if kind is list:
                value = [value] if isinstance(value, str) else value
                if not isinstance(value, list):
                    raise ValueError
            else:
                value = CONVERT[kind](value, key)
        except ValueError:
            raise BadRequest(f"sampling parameter {key} must be {expected}, not {values[key]!r}") from None
        if not check(value):
            raise BadRequest(f"sampling parameter {key} must be {expected}, not {values[key]!r}")
        sampling[key] = value
    if sampling["max_tokens"] >= settings["max_model_len"]:
        raise BadRequest(f"max_tokens {sampling['max_tokens']} exceeds this model's max_model_len {settings['max_model_len']}")
    return sampling


def parse_messages(text):
    """A JSON list of {role, content} -> messages; None when the text is plain text."""
    stripped = text.strip()
    if not stripped.startswith("["):
        return None
    try:
        messages = json.loads(stripped)
    except json.JSONDecodeError as exc:
        if stripped.startswith("[{"):
            raise BadRequest(f"text_input looks like chat messages but is not valid JSON: {exc}") from None
        return None  # plain text that happens to start with "["
    if not isinstance(messages, list) or not messages:
        raise BadRequest("text_input chat messages must be a non-empty JSON list of {role, content}")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or set(message) - {"role", "content"} or "role" not in message:
            raise BadRequest(f"message {i} must be an object with role and content only")
        if message["role"] not in ROLES:
            raise BadRequest(f"message {i}: role must be one of {ROLES}, not {message['role']!r}")
        if not isinstance(message.get("content"), str):
            raise BadRequest(f"message {i}: content must be a string")
    if not any(m["content"].strip() for m in messages):
        raise BadRequest("text_input has no content: every message is empty")
    return messages


def hf_token():
    """For gated models (Llama 2). Read from the environment; never logged."""
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


@contextlib.contextmanager
def explained(what):
    """Loading errors name the model and the usual causes (the token itself is never shown)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - re-raised with context, fails the model load
        hint = "gated models need HF_TOKEN in the server's environment; offline (HF_HUB_OFFLINE=1) the files must be in the HF cache"
        raise RuntimeError(f"{what}: {type(exc).__name__}: {exc} ({hint})") from None


def gpu_visible():
    """Counted through NVML: torch.cuda.is_available() initialises CUDA in this process, and
    vLLM then fails to start its forked engine core ("Cannot re-initialize CUDA in forked
    subprocess"; seen on the H100 with vLLM 0.26)."""
    try:
        import torch

        return torch.cuda.device_count() > 0
    except Exception:  # noqa: BLE001 - no torch, no GPU
        return False


def vllm_importable():
    return importlib.util.find_spec("vllm") is not None


def choose_engine(wanted):
    """auto -> vLLM with a GPU and vllm installed, else transformers; a forced engine must be possible."""
    if wanted == "vllm" or (wanted == "auto" and vllm_importable() and gpu_visible()):
        if not vllm_importable():
            raise RuntimeError("engine=vllm but vllm is not installed")
        if not gpu_visible():
            raise RuntimeError("engine=vllm but no GPU is visible")
        return "vllm"
    return "transformers"


class Metrics:
    """The official vLLM backend's metric names, as Triton custom metrics, per model/version.

    Every update is a message to tritonserver, and updates from several threads at once crash
    it (signal 11 in libtriton_python.so with the CPU engine's generation threads): one lock
    serialises them all.
    """

    def __init__(self, model, version):
        labels = {"model": model, "version": version}
        hist, counter, gauge = pb_utils.MetricFamily.HISTOGRAM, pb_utils.MetricFamily.COUNTER, pb_utils.MetricFamily.GAUGE
        specs = {
            "ttft": ("vllm:time_to_first_token_seconds", "Time to first token in seconds", hist, TTFT_BUCKETS),
            "tpot": ("vllm:time_per_output_token_seconds", "Time per output token in seconds (per request mean)", hist, TPOT_BUCKETS),
            "e2e": ("vllm:e2e_request_latency_seconds", "End to end request latency in seconds", hist, E2E_BUCKETS),
            "prompt": ("vllm:prompt_tokens_total", "Number of prefill tokens processed", counter, None),
            "generation": ("vllm:generation_tokens_total", "Number of generation tokens processed", counter, None),
            "running": ("vllm:num_requests_running", "Number of requests generating now", gauge, None),
            "waiting": ("vllm:num_requests_waiting", "Number of requests waiting to start", gauge, None),
        }
        self._families, self._metrics = [], {}
        for key, (name, description, kind, buckets) in specs.items():
            family = pb_utils.MetricFamily(name=name, description=description, kind=kind)
            self._families.append(family)  # a family must outlive its metrics
            self._metrics[key] = family.Metric(labels=labels, buckets=buckets) if buckets else family.Metric(labels=labels)
        self._lock = threading.Lock()
        self._gauges = {"running": 0, "waiting": 0}

    def observe(self, key, value):
        with self._lock:
            self._metrics[key].observe(float(value))

    def count(self, key, value):
        if value:
            with self._lock:
                self._metrics[key].increment(float(value))

    def move(self, key, delta):
        with self._lock:
            self._gauges[key] += delta
            self._metrics[key].set(float(self._gauges[key]))


class Outbox:
    """Sends the jobs' responses on threads of its own, so that whoever produces text (vLLM's event
    loop, a CPU generation thread) never waits for tritonserver.

    A send, a metric update and an ``is_cancelled()`` query are each a round trip to tritonserver
    (a send took 0.25-0.65 ms on the lent H200 host, with the GIL released meanwhile). Done per
    output on vLLM's event loop, they delayed vLLM's own work there - new requests, first tokens -
    more the more streams ran (P4, docs/benchmarks.md). A job always sends on the same thread, so
    its responses stay in order; text that arrives while its last response is on the way goes out
    merged in the next one (as vLLM itself merges DELTA outputs for a slow reader); tritonserver
    takes sends from several threads at once (its Python backend hands them to a thread pool).
    A job's first response and its last go ahead of the other jobs' deltas: a new request's first
    token waited ~20 ms behind them at 64 streams (P4 section 7), and the client of a finished
    request is waiting for its end to send the next one.
    """

    def __init__(self, threads, logger):
        self.logger = logger
        self._lanes = [queue.PriorityQueue() for _ in range(threads)]
        self._next = itertools.count()
        self._order = itertools.count()  # first in, first out within a priority
        for number, lane in enumerate(self._lanes):
            threading.Thread(target=self._serve, args=(lane,), name=f"outbox-{number}", daemon=True).start()

    def lane(self):
        """The queue of the thread that will send one new job's responses."""
        return self._lanes[next(self._next) % len(self._lanes)]

    def post(self, lane, job, urgent):
        lane.put((0 if urgent else 1, next(self._order), job))

    def _serve(self, lane):
        while True:
            job = lane.get()[2]
            if job is None:
                return
            try:
                job.drain()
            except Exception as exc:  # noqa: BLE001 - one job's failure never stops the thread
                self.logger.log_error(f"sending a response failed: {exc!r}")
                job.abandon(f"sending a response failed: {exc}")

    def close(self):
        for lane in self._lanes:
            lane.put((-1, next(self._order), None))


class Job:
    """One request in flight: its parsed input, its response sender, its timings and counts.

    The engine side calls :meth:`emit`, :meth:`finish` and :meth:`fail`; they only queue, and the
    job's :class:`Outbox` thread does the talking to tritonserver (:meth:`drain`).
    """

    def __init__(self, request, prompt_ids, prompt_text, sampling, stream, include_prompt, metrics, outbox):
        self.sender = request.get_response_sender()
        self.request_id = (request.request_id() or "req") + "-" + uuid.uuid4().hex[:8]
        self.prompt_ids = prompt_ids
        self.prompt_text = prompt_text
        self.sampling = sampling
        self.stream = stream
        self.include_prompt = include_prompt
        self.metrics = metrics
        self.t_arrival = time.monotonic()
        self.t_first = None
        self.output_tokens = 0
        self.pieces = []
        self.state = "new"  # new -> waiting -> running -> done
        self.gone = False  # a send failed: the client is not there any more
        self.cancel_seen = False  # tritonserver said the request was cancelled
        self._outbox, self._lane = outbox, outbox.lane()
        self._lock = threading.Lock()
        self._text, self._tokens, self._end = [], 0, None  # what the next drain sends
        self._queued = False
        self._answered = False  # a response went out
        self._ttft_observed = False
        self._checked = 0.0  # when the outbox last asked whether the request was cancelled

    def cancelled(self):
        """Whether to stop: asks tritonserver (a round trip; not for the engine's event loop)."""
        if not (self.gone or self.cancel_seen) and self.sender.is_cancelled():
            self.cancel_seen = True
        return self.gone or self.cancel_seen

    def cancel_known(self):
        """Whether to stop, from what the outbox and the watcher last learned (no round trip)."""
        return self.gone or self.cancel_seen

    def _send(self, response, final=False):
        flags = pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL if final else 0
        try:
            self.sender.send(response, flags=flags)
        except Exception:  # noqa: BLE001 - the client went away: stop generating, still complete the request
            self.gone = True
            if final:
                self.sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    def set_state(self, state):
        if self.state in ("waiting", "running"):
            self.metrics.move(self.state, -1)
        if state in ("waiting", "running"):
            self.metrics.move(state, +1)
        self.state = state

    def _queue(self, text="", tokens=0, end=None):
        with self._lock:
            if text:
                self._text.append(text)
            self._tokens += tokens
            if end is not None:
                self._end = end
            if not self._queued:
                self._queued = True
                self._outbox.post(self._lane, self, urgent=self._end is not None or (self.stream and not self._answered))

    def emit(self, text, tokens):
        """New text (and the tokens it holds) from the engine: a delta when streaming."""
        if tokens and self.t_first is None:
            self.t_first = time.monotonic()
        self.output_tokens += tokens
        if not self.stream:
            self.pieces.append(text)
            text = ""
        if text or tokens:
            self._queue(text, tokens)

    def finish(self, finish_reason):
        """The last response (with the finish reason) goes after everything emitted before."""
        self._queue(end=("finish", finish_reason, time.monotonic()))

    def fail(self, message):
        self._queue(end=("fail", message, time.monotonic()))

    def drain(self):
        """(Outbox thread) Send what was queued since the last drain: one response for the text,
        then, once the job has ended, the closing one."""
        with self._lock:
            text, tokens, end = "".join(self._text), self._tokens, self._end
            self._text, self._tokens, self._queued = [], 0, False
        if self.state == "done":
            return  # closed already; a late emit has nowhere to go
        if self.t_first is not None and not self._ttft_observed:
            self._ttft_observed = True
            self.metrics.observe("ttft", self.t_first - self.t_arrival)
        self.metrics.count("generation", tokens)
        if self.stream and (text or tokens):
            self._send(self.response(text, tokens))
            self._answered = True
        if end is None:
            now = time.monotonic()
            if now - self._checked >= CANCEL_CHECK_S:
                self._checked = now
                self.cancelled()
            return
        kind, detail, t_end = end
        self.set_state("done")
        if kind == "fail":
            self._send(pb_utils.InferenceResponse(error=pb_utils.TritonError(detail)), final=True)
            return
        self.metrics.observe("e2e", t_end - self.t_arrival)
        if self.t_first is not None and self.output_tokens > 1:
            self.metrics.observe("tpot", (t_end - self.t_first) / (self.output_tokens - 1))
        if self.stream:
            final = self.response("", 0, detail)
        else:
            full = "".join(self.pieces)
            final = self.response((self.prompt_text + full) if self.include_prompt else full, self.output_tokens, detail)
        self._send(final, final=True)

    def abandon(self, message):
        """(Outbox thread) A drain failed: end the request with an error instead of leaving its
        client waiting, and have the engine stop at its next output."""
        self.gone = True
        if self.state == "done":
            return
        try:
            self.set_state("done")
        finally:
            self._send(pb_utils.InferenceResponse(error=pb_utils.TritonError(message)), final=True)

    def response(self, text, tokens, finish_reason=None):
        tensors = [
            pb_utils.Tensor("text_output", np.array([text.encode("utf-8")], dtype=np.object_)),
            pb_utils.Tensor("num_input_tokens", np.array([len(self.prompt_ids)], dtype=np.uint32)),
            pb_utils.Tensor("num_output_tokens", np.array([tokens], dtype=np.uint32)),
        ]
        if finish_reason is not None:
            tensors.append(pb_utils.Tensor("finish_reason", np.array([finish_reason.encode()], dtype=np.object_)))
        return pb_utils.InferenceResponse(output_tensors=tensors)


class TextSink:
    """Token ids in, text deltas out: holds back partial UTF-8 and cuts at stop strings."""

    def __init__(self, job, tokenizer):
        self.job, self.tokenizer = job, tokenizer
        self.ids, self.sent, self.pending = [], "", 0
        self.stop_hit = False

    def add(self, new_ids):
        self.ids.extend(new_ids)
        self.pending += len(new_ids)
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        for stop in self.job.sampling["stop"]:
            at = text.find(stop)
            if at >= 0:
                text, self.stop_hit = text[:at], True
        if text.endswith("\ufffd") and not self.stop_hit:
            return  # a multi-byte character is not complete yet
        delta = text[len(self.sent):]  # decoding is prefix-stable for these tokenizers; never resend text
        self.sent = text
        self.job.emit(delta, self.pending)
        self.pending = 0

    def flush(self):
        if self.pending:
            self.job.emit("", self.pending)
            self.pending = 0


class TransformersEngine:
    """CPU engine: transformers generate() in a thread per request, stopped between tokens."""

    name = "transformers"

    def __init__(self, settings, tokenizer, logger):
        import torch
        from transformers import AutoModelForCausalLM, StoppingCriteria

        self.torch, self.tokenizer, self.logger = torch, tokenizer, logger
        if settings["cpu_threads"] > 0:
            torch.set_num_threads(settings["cpu_threads"])
        dtypes = {"auto": torch.float32, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
        if settings["dtype"] not in dtypes:
            raise ValueError(f"parameter dtype must be one of {sorted(dtypes)}, not {settings['dtype']!r}")
        kwargs = {"dtype": dtypes[settings["dtype"]]}
        if settings["gguf_file"]:
            kwargs["gguf_file"] = settings["gguf_file"]
        if hf_token():
            kwargs["token"] = hf_token()
        self.model = AutoModelForCausalLM.from_pretrained(settings["model"], **kwargs).eval()
        self.slots = threading.Semaphore(settings["cpu_max_concurrent"])
        self.eos_ids = set(self._eos_ids())

        class StopWhen(StoppingCriteria):
            def __init__(self, check):
                self.check = check

            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), bool(self.check()), dtype=torch.bool)

        self.StopWhen = StopWhen

    def _eos_ids(self):
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos]
        return [e for e in [*eos, self.tokenizer.eos_token_id] if e is not None]

    def submit(self, job):
        job.set_state("waiting")
        threading.Thread(target=self._run, args=(job,), name=f"gen-{job.request_id}", daemon=True).start()

    def _run(self, job):
        while not self.slots.acquire(timeout=0.25):  # waiting: a gone client leaves the queue
            if job.cancelled():
                job.finish("cancelled")
                return
        try:
            job.set_state("running")
            job.finish(self._generate(job))
        except Exception as exc:  # noqa: BLE001 - reported to the client, the model keeps serving
            self.logger.log_error(f"generation failed: {exc!r}")
            job.fail(f"generation failed: {exc}")
        finally:
            self.slots.release()

    def _generate(self, job):
        torch, sp = self.torch, job.sampling
        sink = TextSink(job, self.tokenizer)
        state = {"cancelled": False, "eos": False, "skip_prompt": True}

        class Streamer:
            def put(self, value):
                if state["skip_prompt"]:
                    state["skip_prompt"] = False
                    return
                ids = [int(t) for t in value.reshape(-1).tolist()]
                state["eos"] = state["eos"] or any(t in engine.eos_ids for t in ids)
                sink.add(ids)

            def end(self):
                sink.flush()

        def should_stop():
            if job.cancelled():
                state["cancelled"] = True
            return state["cancelled"] or sink.stop_hit

        engine = self
        if sp["seed"] is not None:
            torch.manual_seed(sp["seed"])
        sample = sp["temperature"] > 0
        kwargs = {
            "max_new_tokens": sp["max_tokens"],
            "do_sample": sample,
            "repetition_penalty": sp["repetition_penalty"],
            "pad_token_id": self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else next(iter(self.eos_ids), None),
        }
        if sample:
            kwargs.update(temperature=sp["temperature"], top_p=sp["top_p"], top_k=sp["top_k"] or None)
        if sp["ignore_eos"]:
            kwargs["min_new_tokens"] = sp["max_tokens"]
        input_ids = torch.tensor([job.prompt_ids], dtype=torch.long)
        with torch.inference_mode():
            self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                streamer=Streamer(),
                stopping_criteria=[self.StopWhen(should_stop)],
                **kwargs,
            )
        if state["cancelled"]:
            return "cancelled"
        if sink.stop_hit or state["eos"]:
            return "stop"
        return "length" if job.output_tokens >= sp["max_tokens"] else "stop"

    def shutdown(self):
        pass


class VllmEngine:
    """GPU engine: vLLM's AsyncLLM on an event loop in a background thread, DELTA outputs."""

    name = "vllm"

    def __init__(self, settings, logger):
        from vllm import SamplingParams
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.sampling_params import RequestOutputKind
        from vllm.v1.engine.async_llm import AsyncLLM

        self.logger, self.SamplingParams, self.DELTA = logger, SamplingParams, RequestOutputKind.DELTA
        model = settings["model"]
        if settings["gguf_file"]:
            model = os.path.join(model, settings["gguf_file"])
        args = AsyncEngineArgs(
            model=model,
            tokenizer=settings["tokenizer"] or None,
            dtype=settings["dtype"],
            max_model_len=settings["max_model_len"],
            gpu_memory_utilization=settings["gpu_memory_utilization"],
            tensor_parallel_size=settings["tensor_parallel_size"],
            enforce_eager=settings["enforce_eager"],
            max_num_seqs=settings["max_num_seqs"],
            disable_log_stats=True,
            **({"stream_interval": settings["stream_interval"]} if settings["stream_interval"] > 1 else {}),
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="vllm-loop", daemon=True)
        self.thread.start()

        async def create():
            return AsyncLLM.from_engine_args(args)

        self.core_python = engine_core_python(settings["engine_core_python"])
        with engine_core_spawned_by(self.core_python):
            self.engine = asyncio.run_coroutine_threadsafe(create(), self.loop).result()
        logger.log_info(f"vLLM engine core spawned by {self.core_python}" if self.core_python else
                        "vLLM engine core started by vLLM itself (a fork of this process unless CUDA was initialised)")
        self.pinned = []
        if settings["engine_core_cpus"]:
            cpus = parse_cpus(settings["engine_core_cpus"], "parameter engine_core_cpus")
            self.pinned = pin_engine_core(cpus)
            if self.pinned:
                logger.log_info(f"vLLM engine core {self.pinned} pinned to CPUs {sorted(cpus)}; this model's threads on the others")
            else:
                logger.log_warn("engine_core_cpus: no vLLM engine-core process found, nothing pinned")

    def submit(self, job):
        job.set_state("waiting")
        asyncio.run_coroutine_threadsafe(self._run(job), self.loop)

    def _params(self, sp):
        kwargs = {
            "max_tokens": sp["max_tokens"],
            "temperature": sp["temperature"],
            "top_p": sp["top_p"],
            "repetition_penalty": sp["repetition_penalty"],
            "seed": sp["seed"],
            "stop": sp["stop"] or None,
            "ignore_eos": sp["ignore_eos"],
            "output_kind": self.DELTA,
        }
        if sp["top_k"]:
            kwargs["top_k"] = sp["top_k"]
        return self.SamplingParams(**kwargs)

    async def _watch(self, job):
        """Abort when the client goes away, even before the first token comes out (asking
        tritonserver off the loop: the round trip would hold up every other stream)."""
        while True:
            await asyncio.sleep(0.25)
            if job.cancel_known() or await asyncio.to_thread(job.cancelled):
                await self.engine.abort(job.request_id)
                return

    async def _run(self, job):
        watcher = asyncio.ensure_future(self._watch(job))
        reason = None
        try:
            async for out in self.engine.generate({"prompt_token_ids": job.prompt_ids}, self._params(job.sampling), job.request_id):
                if job.state == "waiting":
                    job.set_state("running")
                if job.cancel_known():  # learned by the outbox (at most CANCEL_CHECK_S old) or the watcher
                    await self.engine.abort(job.request_id)
                    reason = "cancelled"
                    break
                piece = out.outputs[0]
                job.emit(piece.text, len(piece.token_ids))
                if piece.finish_reason:
                    reason = "cancelled" if piece.finish_reason == "abort" else piece.finish_reason
            job.finish(reason or ("cancelled" if job.cancel_known() else "stop"))
        except asyncio.CancelledError:  # an aborted request may end its generator this way
            job.finish("cancelled")
        except Exception as exc:  # noqa: BLE001 - reported to the client, the model keeps serving
            self.logger.log_error(f"generation failed: {exc!r}")
            job.fail(f"generation failed: {exc}")
        finally:
            watcher.cancel()

    def shutdown(self):
        try:
            self.engine.shutdown()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)


class TritonPythonModel:
    def initialize(self, args):
        t0 = time.monotonic()
        self.logger = pb_utils.Logger
        config = json.loads(args["model_config"])
        self.name = args["model_name"]
        self.settings = parse_settings(config.get("parameters", {}))
        if self.settings["cuda_visible_devices"] and self.settings["engine"] != "transformers":
            # Before anything touches CUDA (choose_engine asks torch); vLLM's engine processes inherit it.
            os.environ["CUDA_VISIBLE_DEVICES"] = self.settings["cuda_visible_devices"]
        if not pb_utils.using_decoupled_model_transaction_policy(config):
            raise ValueError(f"{self.name}: config.pbtxt must set model_transaction_policy {{ decoupled: true }}")
        from transformers import AutoTokenizer

        token_kwargs = {"token": hf_token()} if hf_token() else {}
        tokenizer_kwargs = dict(token_kwargs)
        if self.settings["gguf_file"] and not self.settings["tokenizer"]:
            tokenizer_kwargs["gguf_file"] = self.settings["gguf_file"]
        source = self.settings["tokenizer"] or self.settings["model"]
        with explained(f"{self.name}: cannot load the tokenizer of {source!r}"):
            self.tokenizer = AutoTokenizer.from_pretrained(source, **tokenizer_kwargs)
        engine = choose_engine(self.settings["engine"])
        self.metrics = Metrics(self.name, str(args["model_version"]))
        self.outbox = Outbox(self.settings["response_threads"], self.logger)
        with explained(f"{self.name}: the {engine} engine cannot load {self.settings['model']!r}"):
            if engine == "vllm":
                self.engine = VllmEngine(self.settings, self.logger)
            else:
                self.engine = TransformersEngine(self.settings, self.tokenizer, self.logger)
                if self.settings["engine_core_cpus"]:
                    self.logger.log_warn(f"[{self.name}] engine_core_cpus applies to vLLM's engine core only: nothing pinned")
        # The start-up heap (torch, transformers, vLLM, the tokenizer: ~620,000 objects under vLLM)
        # is frozen, as vLLM's own server does (vllm.utils.gc_utils.freeze_gc_heap): a full
        # collection of it took 100-400 ms on the lent H200 host, and while serving it would stop
        # every stream of this model that long (P4 section 7, docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        self.logger.log_info(
            f"[{self.name}] {self.engine.name} engine on {self.settings['model']} ready in {time.monotonic() - t0:.1f}s"
            f" ({gc.get_freeze_count()} start-up objects left out of garbage collection)"
        )

    def _input(self, request, name):
        tensor = pb_utils.get_input_tensor_by_name(request, name)
        if tensor is None:
            return None
        array = tensor.as_numpy().reshape(-1)
        if array.size != 1:
            raise BadRequest(f"{name} must hold exactly one element, not {array.size}")
        value = array[0]
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest(f"{name} is not valid UTF-8") from None
        return value

    def render_prompt(self, text):
        """text_input -> (token ids, the text the model sees), through the model's chat template."""
        if text is None or not text.strip():
            raise BadRequest("text_input is empty: send a prompt or a JSON list of chat messages")
        messages = parse_messages(text)
        if messages is None and self.settings["template_plain_text"]:
            messages = [{"role": "user", "content": text}]
        if messages is not None:
            if not getattr(self.tokenizer, "chat_template", None):
                raise BadRequest(f"{self.name} has no chat template: send plain text")
            try:
                rendered = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            except Exception as exc:  # noqa: BLE001 - e.g. a template that allows no system role
                raise BadRequest(f"{self.name}'s chat template refused these messages: {exc}") from None
            ids = self.tokenizer(rendered, add_special_tokens=False)["input_ids"]
        else:
            rendered = text
            ids = self.tokenizer(rendered)["input_ids"]
        limit = self.settings["max_prompt_tokens"]
        if len(ids) > limit:
            raise BadRequest(f"prompt is {len(ids)} tokens; this model accepts at most {limit} (max_prompt_tokens)")
        return list(ids), rendered

    def parse(self, request):
        text = self._input(request, "text_input")
        prompt_ids, rendered = self.render_prompt(text)
        sampling = parse_sampling(self._input(request, "sampling_parameters"), self.settings)
        room = self.settings["max_model_len"] - len(prompt_ids)
        sampling["max_tokens"] = min(sampling["max_tokens"], room)  # ends with finish_reason "length"
        stream = self._input(request, "stream")
        exclude = self._input(request, "exclude_input_in_output")
        try:
            stream = False if stream is None else to_bool(stream, "stream")
            include_prompt = False if exclude is None else not to_bool(exclude, "exclude_input_in_output")
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return prompt_ids, rendered, sampling, stream, include_prompt and not stream

    def execute(self, requests):
        for request in requests:
            try:
                prompt_ids, rendered, sampling, stream, include_prompt = self.parse(request)
            except Exception as exc:  # noqa: BLE001 - every refusal is an error response, never a crash
                message = str(exc) if isinstance(exc, BadRequest) else f"cannot read this request: {exc!r}"
                sender = request.get_response_sender()
                sender.send(pb_utils.InferenceResponse(error=pb_utils.TritonError(message)), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
                continue
            job = Job(request, prompt_ids, rendered, sampling, stream, include_prompt, self.metrics, self.outbox)
            self.metrics.count("prompt", len(prompt_ids))
            self.engine.submit(job)
        return None

    def finalize(self):
        try:
            self.engine.shutdown()
        finally:
            self.outbox.close()
