"""Officers' sign-in (Cognito), email (SES) and the residents' site (CloudFront)."""
from __future__ import annotations

from .conftest import CONTEXT, only, refs, resources, site_distribution, site_headers_policy

P = CONTEXT["prefix"]


def test_officer_pool_requires_mfa_strong_passwords_and_invitation(cfn):
    _, pool = only(cfn, "AWS::Cognito::UserPool")
    props = pool["Properties"]
    assert props["MfaConfiguration"] == "ON"
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 14
    assert all(policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert props["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"
    assert props["DeletionProtection"] == "ACTIVE"
    assert pool["DeletionPolicy"] == "Retain"
    groups = {g["Properties"]["GroupName"] for g in resources(cfn, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"officer", "supervisor", "auditor"}


def test_officer_api_client_signs_in_with_password_then_totp_and_short_tokens(cfn):
    _, client = only(cfn, "AWS::Cognito::UserPoolClient")
    props = client["Properties"]
    assert props["GenerateSecret"] is False
    # The flow the console and make officer-token use, and the local client allows (no SRP).
    assert sorted(props["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["EnableTokenRevocation"] is True
    assert props["AccessTokenValidity"] == 15 and props["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert props["IdTokenValidity"] == 15 and props["TokenValidityUnits"]["IdToken"] == "minutes"
    refresh_minutes = {"minutes": 1, "hours": 60, "days": 1440}[props["TokenValidityUnits"]["RefreshToken"]]
    assert props["RefreshTokenValidity"] * refresh_minutes == 12 * 60
    assert "AllowedOAuthFlows" not in props


def test_local_officer_client_matches_the_deployed_one(cfn):
    from local.provision import OFFICER_CLIENT

    _, client = only(cfn, "AWS::Cognito::UserPoolClient")
    props = client["Properties"]
    assert sorted(OFFICER_CLIENT["ExplicitAuthFlows"]) == sorted(props["ExplicitAuthFlows"])
    for key in ("GenerateSecret", "PreventUserExistenceErrors", "EnableTokenRevocation", "AccessTokenValidity",
                "IdTokenValidity", "RefreshTokenValidity", "TokenValidityUnits", "AuthSessionValidity"):
        assert OFFICER_CLIENT[key] == props[key], key


def test_ses_identity_and_configuration_set_and_no_ses_templates(cfn):
    set_id, config_set = only(cfn, "AWS::SES::ConfigurationSet")
    _, identity = only(cfn, "AWS::SES::EmailIdentity")
    assert identity["Properties"]["EmailIdentity"] == CONTEXT["sender_email"].split("@")[1]
    assert identity["Properties"]["DkimAttributes"]["SigningEnabled"] is True
    assert set_id in set(refs(identity["Properties"]["ConfigurationSetAttributes"]))
    assert config_set["Properties"]["DeliveryOptions"]["TlsPolicy"] == "REQUIRE"
    # The app renders emails itself (Jinja2) and sends them raw.
    assert resources(cfn, "AWS::SES::Template") == {}


def test_site_distribution_uses_oac_tls12_and_the_force_domain(cfn):
    _, distribution = site_distribution(cfn)
    config = distribution["Properties"]["DistributionConfig"]
    assert config["Aliases"] == [CONTEXT["site_domain"]]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["ViewerCertificate"]["AcmCertificateArn"] == CONTEXT["site_certificate_arn"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    (origin,) = [o for o in config["Origins"] if o["Id"] == config["DefaultCacheBehavior"]["TargetOriginId"]]
    oac_id = origin["OriginAccessControlId"]["Fn::GetAtt"][0]
    assert cfn["Resources"][oac_id]["Type"] == "AWS::CloudFront::OriginAccessControl"
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def _csp(cfn) -> str:
    _, policy = site_headers_policy(cfn)
    value = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"][
        "ContentSecurityPolicy"]["ContentSecurityPolicy"]
    if isinstance(value, str):
        return value
    return "".join(p if isinstance(p, str) else "{" + ",".join(refs(p)) + "}" for p in value["Fn::Join"][1])


def test_site_security_headers(cfn):
    _, policy = site_headers_policy(cfn)
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    hsts = headers["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 31536000 and hsts["IncludeSubdomains"] is True
    assert headers["ContentTypeOptions"]["Override"] is True  # X-Content-Type-Options: nosniff
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    directives = dict(d.strip().split(" ", 1) if " " in d.strip() else (d.strip(), "")
                      for d in _csp(cfn).split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    # WebAssembly may compile (the respond page's SHA-256); strings may not be eval'd.
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'" and directives["object-src"] == "'none'"
    # connect-src: the site's own origin (pages and /api) and the evidence bucket for uploads.
    assert directives["connect-src"].startswith("'self' ") and "*" not in directives["connect-src"]
    assert "RestAPI" not in directives["connect-src"]
    assert f"{P}-evidence-" in directives["connect-src"]
    assert "https://*.tile.example.org" in directives["img-src"]


def test_outputs_for_deployment(cfn):
    assert {"ApiUrl", "SiteUrl", "SiteBucketName", "DistributionId", "UserPoolId", "UserPoolClientId",
            "EvidenceBucketName", "AlarmTopicArn"} <= set(cfn["Outputs"])
