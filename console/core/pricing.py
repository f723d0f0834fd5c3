"""What AWS bills per hour for an instance (static us-east-1 table; minimal version).

``hourly_price(instance_type, region, capacity_type)`` is the contract other parts call. This
minimal table (us-east-1, Linux, on-demand, USD/h, facts.md) is the fallback the pricing owner
(issue 6) extends with the AWS Pricing API and spot history; spot is priced at the on-demand
rate here, an upper bound, so a burn rate never understates.
"""

from __future__ import annotations

STATIC_INSTANCE_PRICES: dict[str, float] = {
    "g5.xlarge": 1.006, "g5.2xlarge": 1.212, "g5.4xlarge": 1.624, "g5.8xlarge": 2.448,
    "g5.12xlarge": 5.672, "g5.16xlarge": 4.096, "g5.24xlarge": 8.144, "g5.48xlarge": 16.288,
    "m5.large": 0.096, "m5.xlarge": 0.192, "m5.2xlarge": 0.384, "m5.4xlarge": 0.768,
}


def hourly_price(instance_type: str, region: str = "us-east-1", capacity_type: str = "on-demand") -> float | None:
    """USD per hour, or None when the instance type is unknown."""
    return STATIC_INSTANCE_PRICES.get(instance_type)
