"""What one deployment differs by, read once from CDK context (``cdk -c key=value``).

Everything else (names, limits, policies) follows from these values and the code, so two
forces deploying the same commit with different context get the same shape of system.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import re
from typing import Any, Callable, List, Optional

from . import capacity

_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,24}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@([a-z0-9.-]+)$")


# A WAF IP set holds at most 10,000 ranges.
_MAX_RANGES = 10_000

# CloudWatch Logs retention periods of at least a year.
_RETENTION = {365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS",
              1096: "THREE_YEARS", 1827: "FIVE_YEARS", 2192: "SIX_YEARS", 2557: "SEVEN_YEARS"}


class SettingsError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Settings:
    # Every resource name starts with it; one account can hold several deployments.
    prefix: str = "sightline"
    region: str = "eu-west-2"
    account: Optional[str] = None
    force_name: str = "Your local police force"
    # The residents' site, e.g. "cameras.example-police.uk". Without it the site is served on
    # CloudFront's own domain, which is fine to try the system but not for residents.
    site_domain: str = ""
    # ACM certificate for site_domain; CloudFront only takes certificates from us-east-1.
    site_certificate_arn: str = ""
    # The officers' console, e.g. "console.cameras.example-police.uk", and its certificate
    # (us-east-1). Without them it is served on its distribution's own CloudFront domain.
    console_domain: str = ""
    console_certificate_arn: str = ""
    # How long an idle console stays signed in.
    console_idle_minutes: int = 15
    sender_email: str = "no-reply@sightline.example.org"
    alert_email: str = ""
    # Map tiles the site shows (https origin, added to the CSP); empty: no tiles.
    tile_url: str = ""
    # The console's address search (https, with {query}; Nominatim-style JSON); empty: none.
    geocoder_url: str = ""
    tile_attribution: str = ""
    # Where the site's map opens: "lat,lon" and zoom.
    map_center: str = "52.4862,-1.8904"
    map_zoom: int = 13
    log_retention_days: int = 365
    # How long the audit log keeps entries (DynamoDB TTL) and its copies stay locked (Object
    # Lock, compliance mode: nobody can shorten it, not even the account's root user).
    audit_retention_days: int = 2192
    # API Gateway writes logs only through one account-wide role; set false if the account's
    # platform team already manages it.
    apigateway_cloudwatch_role: bool = True
    # Cognito threat protection (compromised credentials, adaptive authentication) needs the
    # Plus feature plan, billed per monthly active user.
    cognito_threat_protection: bool = True
    # Requests one IP address may make to the public endpoints in 5 minutes (WAF rate rule);
    # the defaults let 40 owners behind one carrier-grade NAT answer an appeal (capacity.py).
    api_rate_limit_per_ip: int = capacity.PUBLIC_PER_IP
    # The same for owners' footage-request pages (/owner/requests/...): about 23 requests in
    # 5 minutes for one owner sending five clips while the page looks at their checks.
    owner_request_rate_limit_per_ip: int = capacity.OWNER_REQUESTS_PER_IP
    # The same for /health: two monitors every 10 s behind one address.
    health_rate_limit_per_ip: int = capacity.HEALTH_PER_IP
    # The force's address ranges (CIDR, IPv4 and IPv6, comma-separated or a JSON list): when
    # set, WAF blocks /officer/* from anywhere else. Empty: officers may sign in from anywhere.
    officer_ip_ranges: str = ""

    @property
    def log_retention(self) -> Any:
        from aws_cdk import aws_logs as logs

        return getattr(logs.RetentionDays, _RETENTION[self.log_retention_days])

    @property
    def sender_domain(self) -> str:
        return self.sender_email.rpartition("@")[2]

    @property
    def has_site_domain(self) -> bool:
        return bool(self.site_domain)

    @property
    def officer_networks(self) -> List[Any]:
        """``officer_ip_ranges`` parsed (``ipaddress`` networks; SettingsError if one is not a
        range WAF takes)."""
        networks = []
        for text in (part.strip() for part in self.officer_ip_ranges.split(",")):
            if not text:
                continue
            try:
                network = ipaddress.ip_network(text, strict=True)
            except ValueError as exc:
                raise SettingsError(f"officer_ip_ranges: {text!r} is not a CIDR range ({exc})") from None
            if network.prefixlen == 0:
                raise SettingsError(f"officer_ip_ranges: {text!r} is everyone; WAF takes no /0 range")
            networks.append(network)
        return networks

    @property
    def officer_ranges_by_version(self) -> "dict[int, List[str]]":
        """The ranges as WAF writes them (``a.b.c.d/n``, canonical IPv6), by IP version."""
        ranges: "dict[int, List[str]]" = {}
        for network in self.officer_networks:
            ranges.setdefault(network.version, [])
            if str(network) not in ranges[network.version]:
                ranges[network.version].append(str(network))
        return ranges

    def validate(self) -> "Settings":
        if not _PREFIX.match(self.prefix):
            raise SettingsError("prefix: 2-25 lowercase letters, digits or '-', starting with a letter")
        if not _EMAIL.match(self.sender_email) or not _DOMAIN.match(self.sender_domain):
            raise SettingsError(f"sender_email: not an address on a domain: {self.sender_email!r}")
        if self.alert_email and not _EMAIL.match(self.alert_email):
            raise SettingsError(f"alert_email: not an email address: {self.alert_email!r}")
        if self.console_domain:
            if not _DOMAIN.match(self.console_domain):
                raise SettingsError(f"console_domain: not a domain name: {self.console_domain!r}")
            if not self.console_certificate_arn.startswith("arn:aws:acm:us-east-1:"):
                raise SettingsError("console_certificate_arn: an ACM certificate in us-east-1 is needed with console_domain")
        if not 1 <= self.console_idle_minutes <= 60:
            raise SettingsError("console_idle_minutes: between 1 and 60")
        if self.site_domain:
            if not _DOMAIN.match(self.site_domain):
                raise SettingsError(f"site_domain: not a domain name: {self.site_domain!r}")
            if not self.site_certificate_arn.startswith("arn:aws:acm:us-east-1:"):
                raise SettingsError("site_certificate_arn: an ACM certificate in us-east-1 is needed with site_domain")
        if self.geocoder_url and not (self.geocoder_url.startswith("https://") and "{query}" in self.geocoder_url):
            raise SettingsError("geocoder_url: must be https and hold {query}")
        if self.tile_url and not self.tile_url.startswith("https://"):
            raise SettingsError("tile_url: must be https")
        try:
            lat, lon = (float(v) for v in self.map_center.split(","))
        except ValueError:
            raise SettingsError("map_center: 'lat,lon'") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise SettingsError("map_center: out of range")
        for name in ("api_rate_limit_per_ip", "owner_request_rate_limit_per_ip", "health_rate_limit_per_ip"):
            if not capacity.WAF_MIN_LIMIT <= getattr(self, name) <= 2_000_000_000:
                raise SettingsError(f"{name}: WAF rate limits are 10 to 2,000,000,000 requests in 5 minutes")
        if not 365 <= self.audit_retention_days <= 36500:
            raise SettingsError("audit_retention_days: 365 to 36500 days (Object Lock's limit is 100 years)")
        for version, ranges in self.officer_ranges_by_version.items():
            if len(ranges) > _MAX_RANGES:
                raise SettingsError(f"officer_ip_ranges: at most {_MAX_RANGES} IPv{version} ranges (a WAF IP set's limit)")
        if self.log_retention_days not in _RETENTION:
            raise SettingsError(f"log_retention_days: one of {sorted(_RETENTION)} (at least a year)")
        return self

    @classmethod
    def from_context(cls, get: Callable[[str], Any], account: Optional[str] = None) -> "Settings":
        """``get`` is ``node.try_get_context``; unset keys keep their defaults."""
        values: dict = {}
        for field in dataclasses.fields(cls):
            if field.name == "account":
                continue
            raw = get(field.name)
            if raw is None or raw == "":
                continue
            if field.type == "bool" or isinstance(field.default, bool):
                values[field.name] = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
            elif isinstance(field.default, int):
                values[field.name] = int(raw)
            elif isinstance(raw, (list, tuple)):
                values[field.name] = ",".join(str(v).strip() for v in raw)
            else:
                values[field.name] = str(raw).strip()
        return cls(account=account, **values).validate()
