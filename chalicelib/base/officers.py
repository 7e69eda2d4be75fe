"""Officers: who is acting, and the proof of it, Cognito access tokens verified by our own code.

API Gateway's Cognito authorizer is not emulated by ``chalice local`` or Chalice's test client
(a forged or expired token passes there), so every officer request is verified here, the same
way locally, in tests and in AWS: RS256 signature against the pool's JWKS (keys cached, refetched
once for an unknown key id), issuer, expiry (and at most 15 minutes since issue), ``token_use`` = access, the app client id, and
group membership.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, Optional

from chalicelib.base.config import Config, get_config
from chalicelib.base.errors import Forbidden, ServiceUnavailable, Unauthorized
from chalicelib.base.lazy import Lazy

OFFICER = "officer"  # works in the cases whose team they are on
SUPERVISOR = "supervisor"  # every case; manages teams
AUDITOR = "auditor"  # professional standards: reads the whole audit log and nothing else

JwksFetcher = Callable[[str], Dict[str, Any]]
# The app client issues access tokens for 15 minutes; moto issues them for 60 whatever the
# client says. Refusing older ones here makes "15 minutes" true locally too.
MAX_TOKEN_AGE_S = 15 * 60
LEEWAY_S = 5


@dataclass(frozen=True)
class Officer:
    username: str
    sub: str
    groups: FrozenSet[str]

    def require(self, *groups: str) -> "Officer":
        """This officer, if in any of ``groups``; Forbidden otherwise."""
        if not self.groups.intersection(groups):
            raise Forbidden(f"This needs membership of the {' or '.join(repr(g) for g in groups)} group.")
        return self

    @property
    def supervises(self) -> bool:
        return SUPERVISOR in self.groups


def fetch_jwks(url: str) -> Dict[str, Any]:
    import urllib.request  # http.client and ssl: only on a key fetch, once an hour

    with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (configured https URL)
        return json.loads(response.read())


class KeySet:
    """The pool's signing keys, fetched lazily and cached; refetched (at most every
    ``min_refresh_s``) when a token names a key id we have not seen, as after a key rotation."""

    def __init__(self, url: str, fetch: JwksFetcher = fetch_jwks, max_age_s: float = 3600, min_refresh_s: float = 30):
        self._url = url
        self._fetch = fetch
        self._max_age_s = max_age_s
        self._min_refresh_s = min_refresh_s
        self._keys: Dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any:
        now = time.monotonic()
        stale = now - self._fetched_at > self._max_age_s
        if stale or (kid not in self._keys and now - self._fetched_at > self._min_refresh_s):
            self._refresh(now)
        try:
            return self._keys[kid]
        except KeyError:
            raise Unauthorized("The access token was not signed by a key of this service.") from None

    def _refresh(self, now: float) -> None:
        import jwt  # PyJWT and cryptography: only functions that verify officers load them

        with self._lock:
            try:
                jwks = self._fetch(self._url)
                keys = {
                    entry["kid"]: jwt.PyJWK.from_dict(entry).key
                    for entry in jwks.get("keys", [])
                    if entry.get("kid") and entry.get("kty") == "RSA"
                }
            except (OSError, ValueError, KeyError, jwt.PyJWTError):
                if not self._keys:
                    raise ServiceUnavailable(
                        "Officer sign-in cannot be checked right now. Please try again shortly."
                    ) from None
                return  # keep the keys we have
            self._keys = keys
            self._fetched_at = now


class Authenticator:
    def __init__(self, config: Config, keys: Optional[KeySet] = None):
        self._issuer = config.user_pool_issuer
        self._client_id = config.user_pool_client_id
        self._keys = keys or KeySet(config.jwks_url)

    def officer(self, token: str) -> Officer:
        """The officer an access token proves, or Unauthorized."""
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("The access token is malformed.") from None
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            raise Unauthorized("The access token is malformed.")
        key = self._keys.key(header["kid"])
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
                leeway=LEEWAY_S,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The access token has expired. Sign in again.") from None
        except jwt.PyJWTError:
            raise Unauthorized("The access token is not valid.") from None
        if not isinstance(claims["iat"], (int, float)) or time.time() - claims["iat"] > MAX_TOKEN_AGE_S + LEEWAY_S:
            raise Unauthorized("The access token has expired. Sign in again.")
        if claims.get("token_use") != "access":
            raise Unauthorized("Send an access token, not an ID token.")
        if claims.get("client_id") != self._client_id:
            raise Unauthorized("The access token was issued to another application.")
        groups = claims.get("cognito:groups") or []
        if not isinstance(groups, list):
            raise Unauthorized("The access token is not valid.")
        return Officer(
            username=str(claims.get("username") or claims["sub"]),
            sub=str(claims["sub"]),
            groups=frozenset(str(g) for g in groups),
        )


get_authenticator: Lazy[Authenticator] = Lazy(lambda: Authenticator(get_config()))
