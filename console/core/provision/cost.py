"""The hourly cost of what provisioning creates, from :func:`console.core.pricing.hourly_price`."""

from __future__ import annotations

from dataclasses import dataclass

from console.core import pricing
from console.core.provision.settings import ProvisionSettings

GP3_GB_MONTH = 0.08
HOURS_PER_MONTH = 730.0
# Volumes the blueprint creates: weights cache PVC, Prometheus PVC, GPU node root, core node roots.
EBS_GB = {"weights cache (PVC)": 100, "Prometheus (PVC)": 50, "GPU node root": 200, "core node roots": 2 * 20}


@dataclass(frozen=True)
class CostLine:
    item: str
    count: int
    unit_hourly: float | None  # None: no price known for it

    @property
    def hourly(self) -> float | None:
        return None if self.unit_hourly is None else self.unit_hourly * self.count


@dataclass(frozen=True)
class CostEstimate:
    lines: tuple[CostLine, ...]
    note: str

    @property
    def total(self) -> float:
        return sum(line.hourly or 0.0 for line in self.lines)

    @property
    def unknown(self) -> list[str]:
        return [line.item for line in self.lines if line.unit_hourly is None]

    def describe(self) -> str:
        text = f"${self.total:.2f}/h (~${self.total * 24:.0f}/day)"
        if self.unknown:
            text += f", plus unpriced: {', '.join(self.unknown)}"
        return text


def gpu_node_type(settings: ProvisionSettings) -> str:
    """The GPU type Karpenter most likely launches first: the cheapest priced one allowed."""
    priced = [(pricing.hourly_price(t, settings.region), t) for t in settings.gpu_instance_types]
    known = sorted((p, t) for p, t in priced if p is not None)
    return known[0][1] if known else settings.gpu_instance_types[0]


def estimate(settings: ProvisionSettings) -> CostEstimate:
    """One GPU node (HPA minimum of one replica), the core group, control plane, NAT, EBS."""
    gpu = gpu_node_type(settings)
    lines = (
        CostLine(f"GPU node {gpu}", 1, pricing.hourly_price(gpu, settings.region)),
        CostLine(f"core node {settings.core_instance_type}", settings.core_node_count,
                 pricing.hourly_price(settings.core_instance_type, settings.region)),
        CostLine("EKS control plane (standard support)", 1, pricing.EKS_CONTROL_PLANE),
        CostLine("NAT gateway (+$0.045/GB)", 1, pricing.NAT_GATEWAY),
        CostLine("public IPv4 (NAT)", 1, pricing.PUBLIC_IPV4),
        CostLine(f"EBS gp3 {sum(EBS_GB.values())} GB", 1, sum(EBS_GB.values()) * GP3_GB_MONTH / HOURS_PER_MONTH),
    )
    note = (f"{settings.region} at us-east-1 list prices; each extra replica adds a GPU node "
            f"(GPU pool capped at {settings.gpu_pool_vcpu_limit} vCPUs)")
    return CostEstimate(lines, note)
