"""Deployment settings from CDK context are checked before anything is built."""
from __future__ import annotations

import sys

import pytest

from .conftest import CONTEXT, INFRASTRUCTURE

sys.path.insert(0, str(INFRASTRUCTURE))

from sightline_infra.settings import Settings, SettingsError  # noqa: E402


def _settings(**overrides):
    context = {**CONTEXT, **overrides}
    return Settings.from_context(context.get)


def test_context_values_are_read():
    settings = _settings(log_retention_days="731", cognito_threat_protection="false",
                         owner_request_rate_limit_per_ip="2000")
    assert settings.site_domain == CONTEXT["site_domain"]
    assert settings.log_retention_days == 731
    assert settings.cognito_threat_protection is False
    assert settings.sender_domain == "cameras.example-police.uk"
    assert settings.owner_request_rate_limit_per_ip == 2000


@pytest.mark.parametrize(
    "overrides",
    [
        {"site_certificate_arn": ""},  # a custom domain needs its certificate
        {"site_certificate_arn": "arn:aws:acm:eu-west-2:1:certificate/x"},  # CloudFront: us-east-1 only
        {"sender_email": "not an address"},
        {"prefix": "Sightline_Prod"},
        {"tile_url": "http://tiles.example.org/{z}/{x}/{y}.png"},
        {"log_retention_days": "30"},
        {"owner_request_rate_limit_per_ip": "5"},  # WAF's smallest rate limit is 10
    ],
)
def test_bad_context_is_refused(overrides):
    with pytest.raises(SettingsError):
        _settings(**overrides)
