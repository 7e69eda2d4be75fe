"""Cognito user pool for officers: invitation only, TOTP MFA required, strong passwords."""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from .settings import Settings

# name → (precedence: lower wins when a user is in both, description)
OFFICER_GROUPS = {
    "supervisor": (0, "Every case: manages teams, reads the audit log."),
    "officer": (1, "Searches the registry and asks owners for footage in the cases they are on."),
    "auditor": (2, "Professional standards: reads the whole audit log and nothing else."),
}


class OfficerPool(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        if settings.cognito_threat_protection:
            threat_protection = dict(
                feature_plan=cognito.FeaturePlan.PLUS,
                standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            )
        else:
            threat_protection = dict(feature_plan=cognito.FeaturePlan.ESSENTIALS)
        self.pool = cognito.UserPool(
            self,
            "Pool",
            user_pool_name=f"{settings.prefix}-officers",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            user_invitation=cognito.UserInvitationConfig(
                email_subject=f"Your Sightline account ({settings.force_name})",
                email_body="Your Sightline username is {username} and temporary password is {####}. "
                "You will be asked to choose a new password and set up an authenticator app.",
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            **threat_protection,
        )
        self.groups = {
            name: cognito.CfnUserPoolGroup(
                self,
                f"{name.title()}Group",
                user_pool_id=self.pool.user_pool_id,
                group_name=name,
                description=description,
                precedence=precedence,
            )
            for name, (precedence, description) in OFFICER_GROUPS.items()
        }
        # The officer API client: a public client (no secret: the console runs in officers'
        # browsers). USER_PASSWORD_AUTH over TLS to Cognito, not SRP: the one flow the local
        # stack can check, and the one threat protection checks for compromised credentials
        # (docs/decisions.md). local/provision.py's OFFICER_CLIENT is the same client. Access
        # tokens live 15 minutes; the refresh token keeps a shift signed in for 12 hours.
        self.client = self.pool.add_client(
            "OfficerApiClient",
            user_pool_client_name=f"{settings.prefix}-officer-api",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True),
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.minutes(15),
            id_token_validity=Duration.minutes(15),
            refresh_token_validity=Duration.hours(12),
            auth_session_validity=Duration.minutes(3),
        )
        region = Stack.of(self).region
        self.jwks_url = f"https://cognito-idp.{region}.amazonaws.com/{self.pool.user_pool_id}/.well-known/jwks.json"
