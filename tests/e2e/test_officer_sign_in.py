"""The console's sign-in contract on the local stack, without a browser: the calls a page makes
(unsigned JSON POSTs to the Cognito endpoint in var/local.json), password then TOTP."""
from __future__ import annotations

import json
import urllib.request

import pytest

from local import officer_token
from local.officer_sign_in import CognitoJson, SignInRefused, sign_in, totp_code


def officers_cases(local_stack, token):
    request = urllib.request.Request(f"{local_stack['api_url']}/officer/cases", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def as_a_page(local_stack, password=None, code=None):
    demo, secret = local_stack["demo_supervisor"], local_stack["demo_totp_secret"]
    return sign_in(
        CognitoJson(local_stack["cognito_endpoint"]), local_stack["user_pool_client_id"],
        demo["username"], password or demo["password"], code=code or (lambda: totp_code(secret)),
    )


def test_a_page_signs_in_with_password_and_totp_and_the_api_accepts_the_token(local_stack):
    tokens = as_a_page(local_stack)
    assert officers_cases(local_stack, tokens["AccessToken"]) == 200


def test_a_wrong_password_is_refused(local_stack):
    with pytest.raises(SignInRefused) as refused:
        as_a_page(local_stack, password="Not-The-Passw0rd!")
    assert refused.value.code == "NotAuthorizedException"


def test_a_wrong_totp_code_is_refused(local_stack):
    secret = local_stack["demo_totp_secret"]
    with pytest.raises(SignInRefused) as refused:
        as_a_page(local_stack, code=lambda: f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}")
    assert refused.value.code == "CodeMismatchException"


def test_the_cognito_endpoint_lets_the_site_call_it(local_stack):
    # A page on the site's origin may POST JSON with X-Amz-Target (the CORS preflight passes).
    request = urllib.request.Request(local_stack["cognito_endpoint"] + "/", method="OPTIONS", headers={
        "Origin": local_stack["site_url"], "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target",
    })
    with urllib.request.urlopen(request, timeout=10) as response:
        allowed = response.headers.get("Access-Control-Allow-Origin")
    assert allowed in ("*", local_stack["site_url"])


def test_make_officer_token_answers_the_totp_challenge(local_stack, capsys):
    assert officer_token.main(["--var-dir", str(local_stack["var_dir"])]) == 0
    assert officers_cases(local_stack, capsys.readouterr().out.strip()) == 200
    assert officer_token.main(["--var-dir", str(local_stack["var_dir"]), "--totp-secret", "JBSWY3DPEHPK3PXP"]) == 1
    assert "CodeMismatchException" in capsys.readouterr().err
    assert json.loads((local_stack["var_dir"] / "local.json").read_text())["cognito_endpoint"]
