from ninja.security import HttpBearer, django_auth

from .actions.api_tokens import authenticate_api_token
from .errors import Forbidden
from .middleware import second_factor_required_message
from .permissions import second_factor_missing


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer ses_<prefix>_<secret>` for staff apps and scripts. A token of a
    staff login without a second factor is refused like that login's session (403)."""

    def authenticate(self, request, token: str):
        user = authenticate_api_token(token)
        if user is None:
            return None
        if second_factor_missing(user):
            raise Forbidden(second_factor_required_message(), code="second_factor_required")
        request.user = user
        return user


# Residents use their browser session (CSRF-checked); applications use a token.
session_or_token = [ApiTokenAuth(), django_auth]
