"""The residents' static site: private S3 bucket behind CloudFront (origin access control),
with security headers on every response, and the API on the same origin under ``/api``."""
from __future__ import annotations

from typing import Optional, Sequence

from aws_cdk import Annotations, Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from . import edge
from . import security_headers as headers
from .settings import Settings
from .suppressions import skip_checks


class Site(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        bucket: s3.IBucket,
        api_domain: Optional[str],
        connect_origins: Sequence[str],
    ) -> None:
        """``api_domain``: API Gateway's host, routed from ``/api/*``; None leaves the API on its
        own origin (a trial without ``site_domain``, see stack.py)."""
        super().__init__(scope, id)
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=f"{settings.prefix}-site-security-headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(headers.HSTS_MAX_AGE_S), include_subdomains=True, preload=True, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=headers.content_security_policy(
                        connect_origins=connect_origins, tile_url=settings.tile_url
                    ),
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption[headers.FRAME_OPTIONS], override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy[headers.REFERRER_POLICY.upper().replace("-", "_")], override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy",
                        value=headers.PERMISSIONS_POLICY,
                        override=True,
                    ),
                    cloudfront.ResponseCustomHeader(
                        header="Cross-Origin-Opener-Policy", value=headers.CROSS_ORIGIN_OPENER_POLICY, override=True
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
                "The site then calls the API cross-origin (CORS), where API Gateway's own errors may be "
                "unreadable. Fine for a trial; set site_domain and site_certificate_arn for residents.",
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
            additional_behaviors=self._api_behaviors(api_domain, settings),
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

    def _api_behaviors(self, api_domain: Optional[str], settings: Settings) -> dict:
        """``/api/*`` to API Gateway, uncached, every method, every viewer header but Host (the
        execute-api host needs its own; Authorization and the query string pass). The path goes
        on unchanged: ``/api/x`` is stage ``api``, resource ``/x``. The same response headers
        policy applies, so JSON answers are nosniff and framing-proof like the pages. The
        viewer's address and the origin's mark go with every request, for the API's WAF
        (``edge``)."""
        if api_domain is None:
            return {}
        viewer_ip = edge.viewer_ip_function(self, "ViewerIp", f"{settings.prefix}-{self.node.id.lower()}-viewer-ip")
        return {
            f"{headers.API_PREFIX}/*": cloudfront.BehaviorOptions(
                origin=origins.HttpOrigin(
                    api_domain,
                    protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                    origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
                    custom_headers={edge.ORIGIN_VERIFY_HEADER: edge.origin_verify_value()},
                ),
                function_associations=[
                    cloudfront.FunctionAssociation(function=viewer_ip, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)
                ],
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy=self.headers,
                compress=False,
            )
        }
