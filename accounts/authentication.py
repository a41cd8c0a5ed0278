"""Personal API tokens in the `Authorization` header: `Token <secret>` or `Bearer <secret>`."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from accounts.services import hash_secret, record_token_use

KEYWORDS = {"token", "bearer"}


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """The user whose token's secret the request carries; no header, no opinion."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("The Authorization header must be “Bearer <token>”.")
            )
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(_("This token is not valid.")) from error
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_secret(secret)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This token is not valid."))
        record_token_use(token)
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return 'Token realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A personal API token, created on the API tokens page of your account: "
                "`Authorization: Bearer <secret>` (or `Token <secret>`)."
            ),
        }
