"""A static app (the residents' site, the officers' console): private S3 bucket behind
CloudFront (origin access control), with security headers on every response, and the API on
the same origin under ``/api``."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

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
        connect_origins: Sequence[str] = (),
        app: str = "site",
        csp: str = "",
        domain: Optional[Tuple[str, str]] = None,
    ) -> None:
        """``api_domain``: API Gateway's host, routed from ``/api/*``; None leaves the API on its
        own origin (a trial without ``site_domain``, see stack.py). ``app``: what it serves
        (``site`` or ``console``, in names); ``csp``: its policy (the site's by default);
        ``domain``: (name, us-east-1 certificate ARN), the site's settings by default."""
        super().__init__(scope, id)
        if app == "site" and domain is None and settings.has_site_domain:
            domain = (settings.site_domain, settings.site_certificate_arn)
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=f"{settings.prefix}-{app}-security-headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(headers.HSTS_MAX_AGE_S), include_subdomains=True, preload=True, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp or headers.content_security_policy(
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
        custom_domain = {}
        if domain is not None:
            custom_domain = dict(
                domain_names=[domain[0]],
                certificate=acm.Certificate.from_certificate_arn(self, "Certificate", domain[1]),
                minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            )
        elif app == "site":
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
            comment=f"Sightline ({settings.prefix}) " + ("residents' site" if app == "site" else "officers' console"),
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
            **custom_domain,
        )
        self.domain_name = domain[0] if domain is not None else self.distribution.distribution_domain_name
        no_domain = {} if domain is not None or app == "site" else {
            "CKV_AWS_174": "Without console_domain the console is served on CloudFront's own domain and "
            "certificate, whose TLS policy cannot be raised; set console_domain and console_certificate_arn "
            "to serve it with TLS 1.2 at least.",
        }
        skip_checks(
            self.distribution.node.default_child,
            {
                **no_domain,
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
