"""What AWS bills per hour: the Pricing API first, a static table when it cannot answer.

``hourly_price(instance_type, region, capacity_type)`` is what other parts call. On-demand
prices come from the AWS Price List Query API (served only from us-east-1, whatever region is
priced) and are cached on disk for :data:`ON_DEMAND_TTL_S`. Spot prices come from the region's
``DescribeSpotPriceHistory`` (latest price per availability zone, the lowest is taken: that is
where Karpenter's price-capacity-optimized strategy tends to land) and are cached for
:data:`SPOT_TTL_S`. When spot history cannot be read the on-demand price is used: an upper
bound, so a burn rate never understates (see :func:`price_quote`, whose ``source`` says which).

The static table holds us-east-1 Linux on-demand prices (checked 2026-11); other regions
differ by a few percent, which is why the API is asked first.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.core import paths

log = logging.getLogger(__name__)

PRICING_REGION = "us-east-1"  # the Price List Query API endpoint
ON_DEMAND_TTL_S = 7 * 24 * 3600.0
SPOT_TTL_S = 3600.0
FAILED_RETRY_S = 600.0  # after the API failed, use the table for this long before asking again

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
    "g6.xlarge": 0.8048,
    "g6.2xlarge": 0.9776,
    "g6.12xlarge": 4.6016,
    "g4dn.xlarge": 0.526,
    "g4dn.2xlarge": 0.752,
    "g4dn.12xlarge": 3.912,
    "p4d.24xlarge": 32.7726,
    "m5.large": 0.096,
    "m5.xlarge": 0.192,
    "m5.2xlarge": 0.384,
    "m5.4xlarge": 0.768,
    "c5.xlarge": 0.17,
    "t3.medium": 0.0416,
    "t3.large": 0.0832,
}

# Other things a cluster bills by the hour (us-east-1, USD).
EKS_CONTROL_PLANE = 0.10
EKS_CONTROL_PLANE_EXTENDED = 0.60
NAT_GATEWAY = 0.045  # plus $0.045/GB processed, not counted here
PUBLIC_IPV4 = 0.005
LOAD_BALANCER = {"application": 0.0225, "network": 0.0225, "gateway": 0.0125, "classic": 0.025}
EBS_GB_MONTH = {"gp3": 0.08, "gp2": 0.10, "io1": 0.125, "io2": 0.125, "st1": 0.045, "sc1": 0.015, "standard": 0.05}
HOURS_PER_MONTH = 730.0


def ebs_hourly(volume_type: str, size_gb: int) -> float:
    """An EBS volume's storage cost per hour (provisioned IOPS/throughput not counted)."""
    return EBS_GB_MONTH.get(volume_type, EBS_GB_MONTH["gp3"]) * size_gb / HOURS_PER_MONTH


@dataclass(frozen=True)
class PriceQuote:
    price: float | None
    source: str  # "pricing-api" | "spot-history" | "cache" | "static" | "on-demand-upper-bound" | "unknown"


def normalise_capacity_type(value: str | None) -> str:
    """Karpenter says ``spot``/``on-demand``, EKS node groups ``SPOT``/``ON_DEMAND``."""
    text = (value or "on-demand").strip().lower().replace("_", "-")
    return "spot" if text == "spot" else "on-demand"


class _Cache:
    """A small JSON file of ``key -> {price, at}`` under the cache dir; broken files are ignored."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.cache_dir() / "prices.json"

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def get(self, key: str, ttl_s: float) -> float | None:
        entry = self._load().get(key)
        if not isinstance(entry, dict):
            return None
        try:
            if time.time() - float(entry["at"]) <= ttl_s:
                return float(entry["price"])
        except (KeyError, TypeError, ValueError):
            return None
        return None

    def put(self, key: str, price: float) -> None:
        data = self._load()
        data[key] = {"price": price, "at": time.time()}
        try:
            paths.ensure_dir(self.path.parent)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:  # a read-only cache dir costs speed, never correctness
            log.debug("price cache not written: %s", exc)


_api_failed_at: dict[str, float] = {}


def aws_credentials_configured(profile: str = "", environ: dict[str, str] | None = None) -> bool:
    """A quick, offline guess whether boto3 will find credentials (no instance-metadata probe).

    Used to avoid slow credential probing where there is plainly no AWS account configured.
    """
    env = os.environ if environ is None else environ
    if profile or env.get("AWS_PROFILE") or env.get("AWS_ACCESS_KEY_ID") or env.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        return True
    if env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return True
    home = Path(env.get("HOME") or Path.home())
    files = [env.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials", env.get("AWS_CONFIG_FILE") or home / ".aws" / "config"]
    return any(Path(f).is_file() for f in files)


def _boto_config():  # noqa: ANN202 - botocore.config.Config, imported lazily
    from botocore.config import Config

    return Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=8)


def _pricing_client(session=None):  # noqa: ANN001, ANN202
    import boto3

    session = session or boto3.Session()
    return session.client("pricing", region_name=PRICING_REGION, config=_boto_config())


def _ec2_client(region: str, session=None):  # noqa: ANN001, ANN202
    import boto3

    session = session or boto3.Session()
    return session.client("ec2", region_name=region, config=_boto_config())


def on_demand_from_api(instance_type: str, region: str, client) -> float | None:  # noqa: ANN001
    """The Linux shared-tenancy on-demand price from the Price List Query API, or None."""
    filters = [
        {"Type": "TERM_MATCH", "Field": field, "Value": value}
        for field, value in (
            ("instanceType", instance_type),
            ("regionCode", region),
            ("operatingSystem", "Linux"),
            ("tenancy", "Shared"),
            ("preInstalledSw", "NA"),
            ("capacitystatus", "Used"),
        )
    ]
    response = client.get_products(ServiceCode="AmazonEC2", Filters=filters, FormatVersion="aws_v1", MaxResults=10)
    for item in response.get("PriceList", []):
        product = json.loads(item) if isinstance(item, str) else item
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                usd = dimension.get("pricePerUnit", {}).get("USD")
                if usd is not None and float(usd) > 0:
                    return float(usd)
    return None


def spot_from_history(instance_type: str, client) -> float | None:  # noqa: ANN001
    """The lowest of the latest spot prices per availability zone, or None when there is none."""
    from datetime import datetime, timezone

    response = client.describe_spot_price_history(
        InstanceTypes=[instance_type],
        ProductDescriptions=["Linux/UNIX"],
        StartTime=datetime.now(timezone.utc),
        MaxResults=100,
    )
    latest: dict[str, tuple[Any, float]] = {}
    for entry in response.get("SpotPriceHistory", []):
        zone = entry.get("AvailabilityZone", "")
        stamp = entry.get("Timestamp")
        price = float(entry["SpotPrice"])
        if zone not in latest or (stamp is not None and latest[zone][0] is not None and stamp > latest[zone][0]):
            latest[zone] = (stamp, price)
    prices = [price for _stamp, price in latest.values() if price > 0]
    return min(prices) if prices else None


def price_quote(
    instance_type: str,
    region: str,
    capacity_type: str = "on-demand",
    *,
    session=None,  # noqa: ANN001 - a boto3.Session
    pricing_client=None,  # noqa: ANN001
    ec2_client=None,  # noqa: ANN001
    cache: _Cache | None = None,
) -> PriceQuote:
    """The hourly price with where it came from. Never raises for AWS trouble."""
    cache = cache or _Cache()
    capacity = normalise_capacity_type(capacity_type)
    offline = session is None and pricing_client is None and ec2_client is None and not aws_credentials_configured()
    if capacity == "spot":
        found = _ask(
            f"spot/{region}/{instance_type}", SPOT_TTL_S, offline, cache,
            lambda: spot_from_history(instance_type, ec2_client or _ec2_client(region, session)), "spot-history",
        )
        if found.price is not None:
            return found
        upper = price_quote(instance_type, region, "on-demand", session=session, pricing_client=pricing_client, cache=cache)
        return PriceQuote(upper.price, "on-demand-upper-bound" if upper.price is not None else "unknown")
    found = _ask(
        f"on-demand/{region}/{instance_type}", ON_DEMAND_TTL_S, offline, cache,
        lambda: on_demand_from_api(instance_type, region, pricing_client or _pricing_client(session)), "pricing-api",
    )
    if found.price is not None:
        return found
    static = STATIC_INSTANCE_PRICES.get(instance_type)
    return PriceQuote(static, "static" if static is not None else "unknown")


def _ask(key: str, ttl_s: float, offline: bool, cache: _Cache, fetch: Callable[[], float | None], source: str) -> PriceQuote:
    """The cache, else the API (unless offline or it failed recently); a found price is cached."""
    cached = cache.get(key, ttl_s)
    if cached is not None:
        return PriceQuote(cached, "cache")
    if offline or time.time() - _api_failed_at.get(key, 0.0) <= FAILED_RETRY_S:
        return PriceQuote(None, "unknown")
    from botocore.exceptions import BotoCoreError, ClientError  # only now: botocore takes a while to import
    try:
        price = fetch()
    except (BotoCoreError, ClientError, ValueError, KeyError) as exc:
        log.info("price lookup %s failed: %s", key, exc)
        _api_failed_at[key] = time.time()
        return PriceQuote(None, "unknown")
    if price is None:
        return PriceQuote(None, "unknown")
    cache.put(key, price)
    return PriceQuote(price, source)


def hourly_price(instance_type: str, region: str = "us-east-1", capacity_type: str = "on-demand") -> float | None:
    """USD per hour for one instance, or None when neither the API nor the table knows it."""
    return price_quote(instance_type, region, capacity_type).price


def forget_failures() -> None:
    """Let the next call ask the APIs again (tests; a refresh key in the app)."""
    _api_failed_at.clear()
