"""The moto server fixture is a real HTTP AWS endpoint that boto3 reaches, reset per test."""

from __future__ import annotations

import boto3


def test_boto3_reaches_moto_server(aws_server):
    sts = boto3.client("sts", region_name="us-west-2")
    assert sts.get_caller_identity()["Account"].isdigit()
    s3 = boto3.client("s3", region_name="us-west-2")
    s3.create_bucket(Bucket="leftover", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["leftover"]


def test_state_is_reset_between_tests(aws_server):
    s3 = boto3.client("s3", region_name="us-west-2")
    assert s3.list_buckets()["Buckets"] == []
