from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .permissions import second_factor_missing

# Where a staff member without a second factor may still go: to set one up, or to leave.
OPEN_PREFIXES = ("/accounts/", "/static/", "/i18n/")


def second_factor_required_message() -> str:
    return _(
        "This staff account has no second factor yet: sign in on the website and set one up "
        "(Two-factor authentication) before using the API."
    )


class StaffSecondFactorMiddleware:
    """Every staff account must use a second factor: until it has one, its session can only
    set it up (the API answers 403). Bearer tokens are held to the same rule where they are
    authenticated (identity.api_auth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and not request.path.startswith(OPEN_PREFIXES)
            and second_factor_missing(user)
        ):
            if request.path.startswith("/api/"):
                body = {
                    "code": "second_factor_required",
                    "message": second_factor_required_message(),
                }
                return JsonResponse(body, status=403)
            return redirect("mfa_activate_totp")
        return self.get_response(request)
