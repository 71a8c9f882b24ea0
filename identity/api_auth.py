from ninja.security import HttpBearer, django_auth

from .actions.api_tokens import authenticate_api_token


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer ses_<prefix>_<secret>` for staff apps and scripts."""

    def authenticate(self, request, token: str):
        user = authenticate_api_token(token)
        if user is not None:
            request.user = user
        return user


# Residents use their browser session (CSRF-checked); applications use a token.
session_or_token = [ApiTokenAuth(), django_auth]
