"""The burn rate from a real moto account and the kmock node list."""

from __future__ import annotations

import boto3
import pytest

from console.core import pricing
from console.core.burn_rate import compute_burn_rate
from tests.aws_leftovers import REGION, plant


def test_burn_rate_counts_nodes_from_kubernetes_and_the_rest_from_aws(aws_server, kube_cluster):
    plant("triton-a")
    rate = compute_burn_rate("triton-a", REGION, api_client=kube_cluster.api_client(), session=boto3.Session(region_name=REGION))
    assert rate.state == "ok"
    lines = {(line.what, line.detail): line for line in rate.lines}
    # Nodes come from the node list: 2 m5.xlarge core, one g5.24xlarge on-demand, one g5.2xlarge spot.
    assert lines[("node", "m5.xlarge on-demand")].count == 2
    assert lines[("node", "m5.xlarge on-demand")].hourly == pytest.approx(2 * 0.192)
    assert lines[("node", "g5.24xlarge on-demand")].hourly == pytest.approx(8.144)
    spot = pricing.price_quote("g5.2xlarge", REGION, "spot", session=boto3.Session(region_name=REGION))
    assert lines[("node", "g5.2xlarge spot")].hourly == pytest.approx(spot.price)
    assert lines[("control plane", "version 1.30")].hourly == pytest.approx(0.10)
    assert lines[("NAT gateway", next(d for w, d in lines if w == "NAT gateway"))].hourly == pytest.approx(0.045)
    assert sum(line.hourly for line in rate.lines if line.what == "load balancer") == pytest.approx(0.0225 + 0.025)
    # EC2 instances are not counted twice when the node list is there.
    assert not any(line.what == "node" and "," in line.detail for line in rate.lines)
    assert rate.headline().startswith(f"burn ${rate.hourly:.2f}/h")
    assert "2 GPU nodes" in rate.headline()


def test_without_the_node_list_ec2_instances_stand_in(aws_server):
    plant("triton-a")
    rate = compute_burn_rate("triton-a", REGION, session=boto3.Session(region_name=REGION))
    nodes = {line.detail: line.hourly for line in rate.lines if line.what == "node"}
    assert nodes == {"g5.24xlarge on-demand": pytest.approx(8.144), "m5.xlarge on-demand": pytest.approx(0.192)}


def test_no_cluster_is_said_honestly(aws_server):
    rate = compute_burn_rate("nothing-here", REGION, session=boto3.Session(region_name=REGION))
    assert rate.state == "no-cluster" and rate.lines == []
    assert rate.headline() == "no cluster · $0.00/h"


def test_no_cluster_but_leftovers_still_bill(aws_server):
    plant("gone", with_eks=False)
    rate = compute_burn_rate("gone", REGION, session=boto3.Session(region_name=REGION))
    assert rate.state == "no-cluster"
    assert rate.hourly > 8  # the GPU instance is still running
    assert rate.headline().startswith("no cluster · leftovers $")


def test_no_credentials_makes_no_call(monkeypatch):
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    rate = compute_burn_rate("triton-a", REGION)
    assert rate.state == "no-credentials" and rate.headline() == "burn: no AWS credentials"
