from __future__ import annotations

import logging

from console.core import secrets


def test_hf_token_placeholder_is_not_a_token():
    assert secrets.hf_token({"HF_TOKEN": "<your Huggingface token>"}) is None
    assert secrets.hf_token({"HF_TOKEN": "xxxx"}) is None
    assert secrets.hf_token({"HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyz"}) == "hf_abcdefghijklmnopqrstuvwxyz"
    assert secrets.hf_token({}) is None


def test_redact_masks_known_values_and_token_shapes(monkeypatch):
    monkeypatch.setenv("GRAFANA_ADMIN_PASSWORD", "s3cret-pass")
    text = "pw=s3cret-pass token hf_ABCDEFGHIJKLMNOPQRSTUVWX aws_secret_access_key = AKIAxyz/abc"
    out = secrets.redact(text)
    assert "s3cret-pass" not in out
    assert "hf_ABCDEFGHIJKLMNOPQRSTUVWX" not in out
    assert "AKIAxyz/abc" not in out
    assert out.count(secrets.MASK) == 3


def test_logging_filter_redacts(monkeypatch, caplog):
    monkeypatch.setenv("HF_TOKEN", "hf_zzzzzzzzzzzzzzzzzzzzzzzz1")
    logger = logging.getLogger("test.secrets")
    logger.addFilter(secrets.SecretFilter())
    with caplog.at_level(logging.INFO, logger="test.secrets"):
        logger.info("using token %s", "hf_zzzzzzzzzzzzzzzzzzzzzzzz1")
    assert "hf_zzzz" not in caplog.text
    assert secrets.MASK in caplog.text
