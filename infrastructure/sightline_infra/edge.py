"""Who is calling, when the API is reached through CloudFront (``/api/*`` on the apps' origins).

Behind CloudFront, the API's regional WAF sees CloudFront's edge addresses, not the resident's or
officer's: per-IP rate limits would then pool thousands of people into a few budgets (an appeal
would lock everybody out) and an allow-list of the force's ranges would match nobody. So:

- a CloudFront Function on every ``/api/*`` behaviour writes the viewer's address into
  :data:`VIEWER_IP_HEADER`, replacing whatever the viewer sent under that name;
- the CloudFront origin adds :data:`ORIGIN_VERIFY_HEADER` with a per-stack value (CloudFront
  replaces a viewer's header of the same name), so WAF can tell a request that came through our
  distributions from one sent straight to API Gateway;
- WAF keys its per-IP rules on the viewer header for requests that came through CloudFront, on
  the source address for the rest, and blocks a request that names a viewer address without
  having come through CloudFront (a direct caller forging the header to dodge its limits).

The per-stack value is the GUID in the stack's id: not a secret from whoever can read the stack,
but unknown to the Internet; it only decides which address a request is counted under.
"""
from __future__ import annotations

from aws_cdk import Aws, Fn
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

VIEWER_IP_HEADER = "x-sightline-viewer-ip"
ORIGIN_VERIFY_HEADER = "x-sightline-origin-verify"

VIEWER_IP_FUNCTION_CODE = f"""function handler(event) {{
  var request = event.request;
  request.headers['{VIEWER_IP_HEADER}'] = {{ value: event.viewer.ip }};
  return request;
}}
"""


def origin_verify_value() -> str:
    """The stack's GUID (the last part of its id), as a token resolved at deployment."""
    return Fn.select(2, Fn.split("/", Aws.STACK_ID))


def viewer_ip_function(scope: Construct, id: str, name: str) -> cloudfront.Function:
    return cloudfront.Function(
        scope,
        id,
        function_name=name,
        comment="Tells the API's WAF the viewer's address (replacing any sent under that name)",
        code=cloudfront.FunctionCode.from_inline(VIEWER_IP_FUNCTION_CODE),
        runtime=cloudfront.FunctionRuntime.JS_2_0,
    )


def via_edge() -> wafv2.CfnWebACL.StatementProperty:
    """The request came through one of our CloudFront distributions."""
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(single_header={"Name": ORIGIN_VERIFY_HEADER}),
            positional_constraint="EXACTLY",
            search_string=origin_verify_value(),
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def not_via_edge() -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=via_edge()))


def names_a_viewer() -> wafv2.CfnWebACL.StatementProperty:
    """The request carries a viewer address header (of any length)."""
    return wafv2.CfnWebACL.StatementProperty(
        size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(single_header={"Name": VIEWER_IP_HEADER}),
            comparison_operator="GT",
            size=0,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def viewer_ip_config(fallback: str) -> wafv2.CfnWebACL.ForwardedIPConfigurationProperty:
    """WAF's forwarded-IP settings for the viewer header (``fallback``: MATCH or NO_MATCH for a
    request whose header holds no valid address)."""
    return wafv2.CfnWebACL.ForwardedIPConfigurationProperty(header_name=VIEWER_IP_HEADER, fallback_behavior=fallback)


def both(*statements: wafv2.CfnWebACL.StatementProperty) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=list(statements)))
