"""Officers' sign-in through the Cognito user pool's API: the reference the console follows.

One flow, the same on the local stack (moto) and in AWS: ``USER_PASSWORD_AUTH`` (why, and
what moto does differently: docs/decisions.md, "Officers sign in with USER_PASSWORD_AUTH"),
then whichever challenges Cognito sets, until it hands out tokens:

- ``NEW_PASSWORD_REQUIRED``: the first sign-in with the emailed temporary password;
- ``MFA_SETUP``: no authenticator yet: ``AssociateSoftwareToken`` gives the secret (the
  console shows it as a QR code of :func:`otpauth_uri` and as text), ``VerifySoftwareToken``
  checks a first code from the app;
- ``SOFTWARE_TOKEN_MFA``: the six-digit code, at every sign-in.

The console page makes the same calls with ``fetch`` (docs/officer-sign-in.md);
:class:`CognitoJson` makes them exactly as a page does, unsigned JSON, and ``make
officer-token`` and the tests go through :func:`sign_in`.
"""
from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Optional
from urllib.parse import quote

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

AUTH_FLOW = "USER_PASSWORD_AUTH"
TOTP_STEP_S = 30
ISSUER = "Sightline"


class SignInRefused(Exception):
    """Cognito said no: ``code`` is its error type (``NotAuthorizedException`` for a wrong
    password, ``CodeMismatchException`` for a wrong code...)."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CognitoJson:
    """The user pool API as a browser page calls it: one unsigned JSON POST per operation,
    named by ``X-Amz-Target``. These operations take no AWS credentials."""

    def __init__(self, endpoint: str, timeout_s: float = 10):
        self.endpoint = endpoint.rstrip("/") + "/"
        self.timeout_s = timeout_s

    def call(self, operation: str, body: Dict[str, Any]) -> Dict[str, Any]:
        request = urllib.request.Request(
            self.endpoint,
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            answer = json.loads(error.read() or b"{}")
            code = answer.get("__type", str(error.code)).split("#")[-1]
            raise SignInRefused(code, answer.get("message", "")) from None

    def initiate_auth(self, **body):
        return self.call("InitiateAuth", body)

    def respond_to_auth_challenge(self, **body):
        return self.call("RespondToAuthChallenge", body)

    def associate_software_token(self, **body):
        return self.call("AssociateSoftwareToken", body)

    def verify_software_token(self, **body):
        return self.call("VerifySoftwareToken", body)


def _totp(secret: str) -> TOTP:
    """RFC 6238 as Cognito uses it: SHA-1, six digits, 30 s. cryptography (already installed
    for the JWT checks) rather than pyotp: pyotp 2.12 refuses secrets under 112 bits, and
    moto's fixed secret has 60 (Cognito's have 160)."""
    padded = secret + "=" * (-len(secret) % 8)
    return TOTP(base64.b32decode(padded, casefold=True), 6, SHA1(), TOTP_STEP_S, enforce_key_length=False)


def totp_code(secret: str) -> str:
    """The authenticator app's current code for ``secret``. Near the end of a 30-second step it
    waits for the next one: moto accepts only the current step's code."""
    if TOTP_STEP_S - time.time() % TOTP_STEP_S < 2:
        time.sleep(TOTP_STEP_S - time.time() % TOTP_STEP_S + 0.1)
    return _totp(secret).generate(int(time.time())).decode()


def otpauth_uri(secret: str, username: str, issuer: str = ISSUER) -> str:
    """What the enrolment QR code encodes (the Key URI format authenticator apps read), with the
    secret exactly as Cognito gave it, as the text beside the QR code shows it. SHA-1, six
    digits and 30 s are the format's defaults, and Cognito's."""
    label = quote(f"{issuer}:{username}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}"


def sign_in(
    cognito,
    client_id: str,
    username: str,
    password: str,
    *,
    code: Callable[[], str],
    new_password: Optional[str] = None,
    on_enrol: Callable[[str], None] = lambda secret: None,
) -> Dict[str, Any]:
    """Sign in and answer every challenge; Cognito's ``AuthenticationResult`` (``AccessToken``,
    ``IdToken``, ``RefreshToken``, ``ExpiresIn``). ``cognito`` is a boto3 ``cognito-idp`` client
    or a :class:`CognitoJson`. ``code()`` is the officer typing the app's current code;
    ``on_enrol(secret)`` is the console showing the new secret. Refusals raise SignInRefused."""
    try:
        response = cognito.initiate_auth(
            ClientId=client_id, AuthFlow=AUTH_FLOW, AuthParameters={"USERNAME": username, "PASSWORD": password}
        )
        while "AuthenticationResult" not in response:
            response = _answer(cognito, client_id, username, response, code, new_password, on_enrol)
        return response["AuthenticationResult"]
    except SignInRefused:
        raise
    except Exception as error:  # botocore's ClientError, without importing botocore here
        details = getattr(error, "response", {}).get("Error")
        if not details:
            raise
        raise SignInRefused(details.get("Code", ""), details.get("Message", "")) from None


def _answer(cognito, client_id, username, response, code, new_password, on_enrol) -> Dict[str, Any]:
    challenge, session = response["ChallengeName"], response["Session"]
    # Cognito names the user its own way in the challenge (the pool signs in by email).
    parameters = response.get("ChallengeParameters") or {}
    user = parameters.get("USER_ID_FOR_SRP") or parameters.get("USERNAME") or username
    if challenge == "NEW_PASSWORD_REQUIRED":
        if not new_password:
            raise SignInRefused("NewPasswordRequired", "the temporary password must be replaced")
        answers = {"USERNAME": user, "NEW_PASSWORD": new_password}
    elif challenge == "MFA_SETUP":
        association = cognito.associate_software_token(Session=session)
        on_enrol(association["SecretCode"])
        verified = cognito.verify_software_token(
            Session=association["Session"], UserCode=code(), FriendlyDeviceName=ISSUER
        )
        session, answers = verified["Session"], {"USERNAME": user}
    elif challenge == "SOFTWARE_TOKEN_MFA":
        answers = {"USERNAME": user, "SOFTWARE_TOKEN_MFA_CODE": code()}
    else:
        raise SignInRefused("UnsupportedChallenge", challenge)
    return cognito.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName=challenge, Session=session, ChallengeResponses=answers
    )
