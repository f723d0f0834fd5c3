"""What AWS bills per hour (minimal static version; the issue-6 engineer owns the full module).

``hourly_price(instance_type, region, capacity_type)`` follows the TEAM.md contract: a static
us-east-1 on-demand table (facts.md prices); None when the type or capacity is not known.
"""

from __future__ import annotations

# us-east-1, Linux, shared tenancy, on-demand, USD per hour.
STATIC_INSTANCE_PRICES: dict[str, float] = {
    "g5.xlarge": 1.006,
    "g5.2xlarge": 1.212,
    "g5.4xlarge": 1.624,
    "g5.8xlarge": 2.448,
    "g5.12xlarge": 5.672,
    "g5.16xlarge": 4.096,
    "g5.24xlarge": 8.144,
    "g5.48xlarge": 16.288,
    "m5.large": 0.096,
    "m5.xlarge": 0.192,
    "m5.2xlarge": 0.384,
}

EKS_CONTROL_PLANE = 0.10
EKS_CONTROL_PLANE_EXTENDED = 0.60
NAT_GATEWAY = 0.045  # plus $0.045/GB processed
PUBLIC_IPV4 = 0.005


def hourly_price(instance_type: str, region: str = "us-east-1", capacity_type: str = "on-demand") -> float | None:
    if capacity_type != "on-demand":
        return None
    return STATIC_INSTANCE_PRICES.get(instance_type)
