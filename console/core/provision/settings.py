"""What one provisioning run creates: the terraform variables, taken from the console config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from console.core import paths
from console.core.config import Config


@dataclass(frozen=True)
class ProvisionSettings:
    name: str
    region: str
    cluster_version: str
    gpu_instance_types: tuple[str, ...]
    gpu_pool_vcpu_limit: int
    models: tuple[str, ...]
    terraform_dir: Path
    profile: str = ""
    core_instance_type: str = "m5.xlarge"
    core_node_count: int = 2
    extra_vars: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: Config) -> "ProvisionSettings":
        tf_dir = Path(cfg.provision.terraform_dir) if cfg.provision.terraform_dir else paths.repo_root() / "terraform"
        return cls(
            name=cfg.aws.cluster,
            region=cfg.aws.region,
            cluster_version=cfg.provision.cluster_version,
            gpu_instance_types=tuple(cfg.provision.gpu_instance_types),
            gpu_pool_vcpu_limit=cfg.provision.gpu_pool_vcpu_limit,
            models=tuple(cfg.triton.models),
            terraform_dir=tf_dir,
            profile=cfg.aws.profile,
        )

    def tf_vars(self) -> dict[str, str]:
        """TF_VAR_* environment for terraform (lists as HCL/JSON). The HF token is added by the caller."""
        import json

        values = {
            "region": self.region,
            "name": self.name,
            "cluster_version": self.cluster_version,
            "gpu_instance_types": json.dumps(list(self.gpu_instance_types)),
            "gpu_pool_vcpu_limit": str(self.gpu_pool_vcpu_limit),
            "models": json.dumps(list(self.models)),
            "core_instance_type": self.core_instance_type,
            "core_node_count": str(self.core_node_count),
            **self.extra_vars,
        }
        return {f"TF_VAR_{k}": v for k, v in values.items()}

    def aws_env(self) -> dict[str, str]:
        env = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.profile:
            env["AWS_PROFILE"] = self.profile
        return env
