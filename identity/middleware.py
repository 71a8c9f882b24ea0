from allauth.mfa.models import Authenticator
from django.http import JsonResponse
from django.shortcuts import redirect

from .permissions import is_staff_member

# Where a staff member without a second factor may still go: to set one up, or to leave.
OPEN_PREFIXES = ("/accounts/", "/static/", "/i18n/")


class StaffSecondFactorMiddleware:
    """Every staff account must use a second factor: until it has one, it can only set it up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
            and (user.is_superuser or is_staff_member(user))
            and not Authenticator.objects.filter(
                user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
            ).exists()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "second_factor_required", "message": "Staff accounts need 2FA."},
                    status=403,
                )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
