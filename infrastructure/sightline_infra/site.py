"""The residents' static site: private S3 bucket behind CloudFront (origin access control),
with security headers on every response."""
from __future__ import annotations

from typing import List

from aws_cdk import Annotations, Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .settings import Settings
from .suppressions import skip_checks


def content_security_policy(*, api_origin: str, upload_origin: str, tile_url: str) -> str:
    """No inline script or style, nothing framed, network access to our API and the evidence
    bucket (presigned uploads) only; images may come from the configured map tile server."""
    tile_origin = _origin(tile_url) if tile_url else ""
    directives: List[str] = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data:{' ' + tile_origin if tile_origin else ''}",
        f"connect-src 'self' {api_origin} {upload_origin}",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "upgrade-insecure-requests",
    ]
    return "; ".join(directives)


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    # Tile URL templates put subdomains in braces ("{s}.tile.example.org"): allow them all.
    if "{" in host:
        host = "*." + host.split(".", 1)[1]
    return f"{scheme}://{host}"


class Site(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        bucket: s3.IBucket,
        api_origin: str,
        upload_origin: str,
    ) -> None:
        super().__init__(scope, id)
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=f"{settings.prefix}-site-security-headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, preload=True, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(
                        api_origin=api_origin, upload_origin=upload_origin, tile_url=settings.tile_url
                    ),
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy",
                        value="camera=(), microphone=(), payment=(), usb=(), geolocation=(self)",
                        override=True,
                    ),
                    cloudfront.ResponseCustomHeader(
                        header="Cross-Origin-Opener-Policy", value="same-origin", override=True
                    ),
                ]
            ),
        )
        domain = {}
        if settings.has_site_domain:
            domain = dict(
                domain_names=[settings.site_domain],
                certificate=acm.Certificate.from_certificate_arn(self, "Certificate", settings.site_certificate_arn),
                minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            )
        else:
            Annotations.of(self).add_warning_v2(
                "sightline:site-domain",
                "No site_domain: the site is served on CloudFront's own domain and certificate (whose "
                "TLS policy cannot be raised) and its CSP allows any API Gateway host in the region. "
                "Fine for a trial; set site_domain and site_certificate_arn for residents.",
            )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Sightline ({settings.prefix}) residents' site",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            **domain,
        )
        self.domain_name = settings.site_domain if settings.has_site_domain else self.distribution.distribution_domain_name
        skip_checks(
            self.distribution.node.default_child,
            {
                "CKV_AWS_68": "Serves static files only (no forms posted to it, no origin compute). The API, "
                "which takes residents' input, has its own WAF web ACL with managed rules and per-IP rate "
                "limits; a CloudFront-scope ACL would need a second stack in us-east-1.",
                "CKV_AWS_86": "Data minimisation (UK GDPR art. 5(1)(c)): page views of a public static site "
                "would log every resident's IP address for no investigative need; API requests are logged.",
            },
        )
