"""Settings: defaults, then `config.toml` under the XDG config dir, then environment overrides.

Every setting has an environment override named ``TRITON_CONSOLE_<SECTION>_<KEY>`` (upper case),
e.g. ``TRITON_CONSOLE_TRITON_URL=localhost:9001`` or ``TRITON_CONSOLE_KUBE_NAMESPACE=prod``.
Lists are comma separated in the environment. Secrets are never part of this file: the HF token
and the Grafana password come from the environment (see :mod:`console.core.secrets`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from console.core import paths

ENV_PREFIX = "TRITON_CONSOLE_"


class ConfigError(ValueError):
    """The config file or an override cannot be used; the message says which and why."""


@dataclass
class TritonSettings:
    url: str = "localhost:8001"  # gRPC endpoint
    http_url: str = "localhost:8000"
    metrics_url: str = "http://localhost:8002/metrics"
    models: list[str] = field(default_factory=lambda: ["llama2", "mistral7b"])
    timeout_s: float = 30.0


@dataclass
class LocalSettings:
    grpc_port: int = 8001
    http_port: int = 8000
    metrics_port: int = 8002
    models: str = ""  # model repository for `triton-console local`; empty = generated from ./model_repository


@dataclass
class KubeSettings:
    kubeconfig: str = ""
    context: str = ""
    namespace: str = "triton-vllm"
    release: str = "triton-vllm"
    source: str = "kubeconfig"  # "kubeconfig" or "eks" (aws.cluster in aws.region, no kubeconfig needed)
    port_forward: bool = True  # the Cluster place forwards Triton gRPC/metrics and points the app at them


@dataclass
class AwsSettings:
    cluster: str = "nvidia-triton-server"
    region: str = "us-west-2"
    profile: str = ""


@dataclass
class ProvisionSettings:
    terraform_dir: str = ""  # empty = terraform/ of this checkout
    cluster_version: str = "1.35"
    gpu_instance_types: list[str] = field(default_factory=lambda: ["g5.12xlarge", "g5.24xlarge"])
    gpu_pool_vcpu_limit: int = 96


@dataclass
class MetricsSettings:
    prometheus_url: str = ""  # the cluster's Prometheus; used when set and reachable
    prometheus_matchers: str = ""  # extra series matchers, e.g. namespace="triton-vllm"
    window_s: float = 300.0  # how much history the Metrics place plots
    poll_s: float = 2.0
    rate_interval_s: float = 10.0  # rates and per-request times cover this much


@dataclass
class UiSettings:
    theme: str = "textual-dark"


@dataclass
class Config:
    triton: TritonSettings = field(default_factory=TritonSettings)
    local: LocalSettings = field(default_factory=LocalSettings)
    kube: KubeSettings = field(default_factory=KubeSettings)
    aws: AwsSettings = field(default_factory=AwsSettings)
    provision: ProvisionSettings = field(default_factory=ProvisionSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    source: str = "defaults"  # where the file part came from, shown by the app

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("source")
        return data


def _coerce(value: Any, kind: Any, where: str) -> Any:
    origin = getattr(kind, "__origin__", None)
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if kind is int:
            if isinstance(value, bool):
                raise ValueError("a boolean is not a number")
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError("a boolean is not a number")
            return float(value)
        if origin is list:
            if isinstance(value, str):
                return [item.strip() for item in value.split(",") if item.strip()]
            if isinstance(value, list):
                return [str(item) for item in value]
            raise ValueError(f"not a list: {value!r}")
        if kind is str:
            if not isinstance(value, (str, int, float)):
                raise ValueError(f"not a string: {value!r}")
            return str(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return value


def _apply(section_obj: Any, values: dict[str, Any], where: str) -> None:
    hints = get_type_hints(type(section_obj))
    known = {f.name for f in fields(section_obj)}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        setattr(section_obj, key, _coerce(value, hints[key], f"{where}.{key}"))


def load(path: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Build the effective configuration. A missing file is fine; a broken one is a ConfigError."""
    environ = dict(os.environ if environ is None else environ)
    config = Config()
    path = path or Path(environ.get(f"{ENV_PREFIX}CONFIG", "") or paths.config_file())
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        for section, values in data.items():
            target = getattr(config, section, None)
            if section == "source" or not dataclasses.is_dataclass(target) or not isinstance(values, dict):
                raise ConfigError(f"{path}: unknown section [{section}]")
            _apply(target, values, f"{path}[{section}]")
        config.source = str(path)
    for f in fields(config):
        if f.name == "source":
            continue
        section_obj = getattr(config, f.name)
        for sf in fields(section_obj):
            name = f"{ENV_PREFIX}{f.name}_{sf.name}".upper()
            if name in environ:
                _apply(section_obj, {sf.name: environ[name]}, f"${name}")
    return config


def render_toml(config: Config) -> str:
    """The effective configuration as TOML text (what `triton-console config` prints)."""
    lines: list[str] = []
    for section, values in config.as_dict().items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, (int, float)):
                text = repr(value)
            elif isinstance(value, list):
                text = "[" + ", ".join(_quote(v) for v in value) + "]"
            else:
                text = _quote(value)
            lines.append(f"{key} = {text}")
        lines.append("")
    return "\n".join(lines)


def _quote(value: Any) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
