"""Prices: the Pricing API path through botocore's Stubber (moto has no Pricing API), spot history,
the static fallback, and the on-disk cache."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import ANY, Stubber

from console.core import pricing


def _product(usd: str) -> str:
    return json.dumps({
        "product": {"attributes": {"instanceType": "g5.24xlarge", "regionCode": "eu-west-1"}},
        "terms": {"OnDemand": {"ABC.JRTCKXETXF": {"priceDimensions": {"ABC.JRTCKXETXF.6YS6EN2CT7": {
            "unit": "Hrs", "pricePerUnit": {"USD": usd}, "description": "$9.0 per On Demand Linux g5.24xlarge Instance Hour"}}}}},
    })


@pytest.fixture(autouse=True)
def fresh():
    pricing.forget_failures()
    yield
    pricing.forget_failures()


def _stubbed_pricing():
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    return client, Stubber(client)


def test_pricing_api_answer_is_used_and_cached_on_disk():
    client, stub = _stubbed_pricing()
    expected = {"ServiceCode": "AmazonEC2", "Filters": ANY, "FormatVersion": "aws_v1", "MaxResults": 10}
    stub.add_response("get_products", {"PriceList": [_product("9.0")], "FormatVersion": "aws_v1"}, expected)
    with stub:
        quote = pricing.price_quote("g5.24xlarge", "eu-west-1", pricing_client=client)
    assert quote == pricing.PriceQuote(9.0, "pricing-api")
    stub.assert_no_pending_responses()
    # The second ask is answered from the cache file: the stub has no response left to give.
    with stub:
        assert pricing.price_quote("g5.24xlarge", "eu-west-1", pricing_client=client) == pricing.PriceQuote(9.0, "cache")
    cache = json.loads((pricing.paths.cache_dir() / "prices.json").read_text())
    assert cache["on-demand/eu-west-1/g5.24xlarge"]["price"] == 9.0


def test_filters_ask_for_linux_shared_tenancy_in_the_region():
    client, stub = _stubbed_pricing()
    captured = {}

    def keep(params, **_):
        captured.update(params)

    client.meta.events.register("provide-client-params.pricing.GetProducts", keep)
    stub.add_response("get_products", {"PriceList": [_product("1.5")]})
    with stub:
        pricing.on_demand_from_api("g5.xlarge", "us-west-2", client)
    filters = {f["Field"]: f["Value"] for f in captured["Filters"]}
    assert filters == {"instanceType": "g5.xlarge", "regionCode": "us-west-2", "operatingSystem": "Linux",
                       "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}


def test_api_error_falls_back_to_the_static_table_and_is_not_cached():
    client, stub = _stubbed_pricing()
    stub.add_client_error("get_products", "ThrottlingException", "Rate exceeded", http_status_code=400)
    with stub:
        quote = pricing.price_quote("g5.24xlarge", "us-east-1", pricing_client=client)
    assert quote == pricing.PriceQuote(8.144, "static")
    assert not (pricing.paths.cache_dir() / "prices.json").exists()


def test_unknown_type_is_none_not_zero():
    client, stub = _stubbed_pricing()
    stub.add_response("get_products", {"PriceList": []})
    with stub:
        assert pricing.price_quote("x9.huge", "us-east-1", pricing_client=client) == pricing.PriceQuote(None, "unknown")


def test_spot_takes_the_lowest_latest_price_per_zone():
    from datetime import datetime, timedelta, timezone

    ec2 = boto3.client("ec2", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="y")
    now = datetime.now(timezone.utc)
    history = [
        {"AvailabilityZone": "us-west-2a", "InstanceType": "g5.24xlarge", "SpotPrice": "3.10", "Timestamp": now},
        {"AvailabilityZone": "us-west-2a", "InstanceType": "g5.24xlarge", "SpotPrice": "1.00", "Timestamp": now - timedelta(days=2)},
        {"AvailabilityZone": "us-west-2b", "InstanceType": "g5.24xlarge", "SpotPrice": "2.95", "Timestamp": now},
    ]
    with Stubber(ec2) as stub:
        stub.add_response("describe_spot_price_history", {"SpotPriceHistory": history})
        quote = pricing.price_quote("g5.24xlarge", "us-west-2", "SPOT", ec2_client=ec2)
    assert quote == pricing.PriceQuote(2.95, "spot-history")


def test_spot_without_history_uses_on_demand_as_upper_bound():
    ec2 = boto3.client("ec2", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="y")
    client, pstub = _stubbed_pricing()
    pstub.add_response("get_products", {"PriceList": [_product("8.5")]})
    with Stubber(ec2) as stub, pstub:
        stub.add_response("describe_spot_price_history", {"SpotPriceHistory": []})
        quote = pricing.price_quote("g5.24xlarge", "us-west-2", "spot", ec2_client=ec2, pricing_client=client)
    assert quote == pricing.PriceQuote(8.5, "on-demand-upper-bound")


def test_without_credentials_no_aws_call_is_made(monkeypatch):
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    assert pricing.hourly_price("m5.xlarge", "us-east-1") == 0.192
    assert pricing.hourly_price("g5.24xlarge", "us-east-1", "spot") == 8.144


def test_facts_prices_are_in_the_table():
    assert pricing.STATIC_INSTANCE_PRICES["g5.24xlarge"] == 8.144
    assert pricing.STATIC_INSTANCE_PRICES["m5.xlarge"] == 0.192
    assert (pricing.EKS_CONTROL_PLANE, pricing.EKS_CONTROL_PLANE_EXTENDED) == (0.10, 0.60)
    assert (pricing.NAT_GATEWAY, pricing.PUBLIC_IPV4) == (0.045, 0.005)
    assert all(t in pricing.STATIC_INSTANCE_PRICES for t in ("g5.xlarge", "g5.2xlarge", "g5.12xlarge", "g5.48xlarge"))
    assert pricing.ebs_hourly("gp3", 730) == pytest.approx(0.08)


def test_broken_cache_file_is_ignored():
    path = pricing.paths.ensure_dir(pricing.paths.cache_dir()) / "prices.json"
    path.write_text("{not json")
    client, stub = _stubbed_pricing()
    stub.add_response("get_products", {"PriceList": [_product("0.2")]})
    with stub:
        assert pricing.price_quote("m5.xlarge", "us-east-1", pricing_client=client).price == 0.2
