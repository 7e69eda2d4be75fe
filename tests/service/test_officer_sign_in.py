"""Officers sign in with password then TOTP, on the pool and client the local stack provisions
(local/provision.py, configured as the deployed ones), through the reference flow the console
follows (local/officer_sign_in.py). moto checks real TOTP codes here, as the local stack has it."""
from __future__ import annotations

import os

import pytest

from local.officer_sign_in import SignInRefused, otpauth_uri, sign_in, totp_code
from tests.conftest import REGION, moto_jwks

OFFICER = {"username": "pc.evans", "password": "Officer-Passw0rd-Evans!", "email": "pc.evans@police.example"}
SUPERVISOR = {"username": "sgt.ward", "password": "Supervisor-Passw0rd-Ward!", "email": "sgt.ward@police.example"}
NEW_PASSWORD = "Chosen-Passw0rd-Of-Her-Own!"


@pytest.fixture
def pool(aws, monkeypatch):
    """The provisioned pool (demo users enrolled in TOTP); the app verifies its tokens."""
    import boto3

    from chalicelib.base import officers
    from chalicelib.base.config import get_config
    from local.provision import create_officer_pool

    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    cognito = boto3.client("cognito-idp", region_name=REGION)
    resources = create_officer_pool(cognito, "http://aws.local", OFFICER, SUPERVISOR)
    monkeypatch.setenv("SIGHTLINE_USER_POOL_ID", resources["user_pool_id"])
    monkeypatch.setenv("SIGHTLINE_USER_POOL_CLIENT_ID", resources["user_pool_client_id"])
    get_config.reset()
    config = get_config()
    officers.get_authenticator.set(
        officers.Authenticator(config, officers.KeySet(config.jwks_url, fetch=lambda url: moto_jwks()))
    )
    yield cognito, resources
    get_config.reset()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_password_then_totp_gives_an_access_token_the_api_accepts(pool, client):
    # Given an enrolled officer
    cognito, resources = pool
    secret = resources["demo_totp_secret"]
    # When she signs in with her password and her app's code
    tokens = sign_in(cognito, resources["user_pool_client_id"], OFFICER["username"], OFFICER["password"],
                     code=lambda: totp_code(secret))
    # Then the API takes the access token
    response = client.http.get("/officer/cases", headers={"Authorization": f"Bearer {tokens['AccessToken']}"})
    assert response.status_code == 200, response.body
    assert tokens["RefreshToken"]


def test_the_password_alone_is_not_enough(pool):
    cognito, resources = pool
    answer = cognito.initiate_auth(
        ClientId=resources["user_pool_client_id"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": SUPERVISOR["username"], "PASSWORD": SUPERVISOR["password"]},
    )
    assert "AuthenticationResult" not in answer
    assert answer["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def test_a_wrong_password_is_refused(pool):
    cognito, resources = pool
    with pytest.raises(SignInRefused) as refused:
        sign_in(cognito, resources["user_pool_client_id"], OFFICER["username"], "Not-Her-Passw0rd!",
                code=lambda: totp_code(resources["demo_totp_secret"]))
    assert refused.value.code == "NotAuthorizedException"


def test_a_wrong_totp_code_is_refused(pool):
    cognito, resources = pool
    with pytest.raises(SignInRefused) as refused:
        sign_in(cognito, resources["user_pool_client_id"], OFFICER["username"], OFFICER["password"],
                code=lambda: wrong(totp_code(resources["demo_totp_secret"])))
    assert refused.value.code == "CodeMismatchException"


def test_a_new_officer_chooses_a_password_and_enrols_an_authenticator(pool, client):
    # Given an officer invited with a temporary password
    cognito, resources = pool
    client_id = resources["user_pool_client_id"]
    cognito.admin_create_user(
        UserPoolId=resources["user_pool_id"], Username="pc.new", TemporaryPassword="Temporary-Passw0rd-1!",
        MessageAction="SUPPRESS", UserAttributes=[{"Name": "email", "Value": "pc.new@police.example"}],
    )
    cognito.admin_add_user_to_group(UserPoolId=resources["user_pool_id"], Username="pc.new", GroupName="officer")
    shown = []

    def app_code() -> str:  # her authenticator app, once it has the secret the console showed
        return totp_code(shown[-1])

    # When she signs in the first time: new password, then the secret shown, then a first code
    tokens = sign_in(cognito, client_id, "pc.new", "Temporary-Passw0rd-1!", code=app_code,
                     new_password=NEW_PASSWORD, on_enrol=shown.append)
    # Then she was shown a secret for her app (as text and as a QR code of this URI), and is in
    assert len(shown) == 1 and otpauth_uri(shown[0], "pc.new") == f"otpauth://totp/Sightline%3Apc.new?secret={shown[0]}&issuer=Sightline"
    assert client.http.get("/officer/cases", headers={"Authorization": f"Bearer {tokens['AccessToken']}"}).status_code == 200
    # And from then on her new password alone is not enough: a code is asked, and checked
    with pytest.raises(SignInRefused) as refused:
        sign_in(cognito, client_id, "pc.new", NEW_PASSWORD, code=lambda: wrong(app_code()))
    assert refused.value.code == "CodeMismatchException"
    assert sign_in(cognito, client_id, "pc.new", NEW_PASSWORD, code=app_code)["AccessToken"]


def test_a_wrong_first_code_does_not_enrol(pool):
    cognito, resources = pool
    cognito.admin_create_user(
        UserPoolId=resources["user_pool_id"], Username="pc.slip", TemporaryPassword="Temporary-Passw0rd-2!",
        MessageAction="SUPPRESS",
    )
    shown = []
    with pytest.raises(SignInRefused) as refused:
        sign_in(cognito, resources["user_pool_client_id"], "pc.slip", "Temporary-Passw0rd-2!",
                code=lambda: wrong(totp_code(shown[-1])), new_password=NEW_PASSWORD, on_enrol=shown.append)
    assert refused.value.code == "CodeMismatchException"


def test_the_local_pool_requires_totp_only(pool):
    cognito, resources = pool
    mfa = cognito.get_user_pool_mfa_config(UserPoolId=resources["user_pool_id"])
    assert mfa["MfaConfiguration"] == "ON"
    assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    assert "SmsMfaConfiguration" not in mfa or not mfa["SmsMfaConfiguration"]
    assert os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] == "true"
