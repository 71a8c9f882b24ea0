"""Who may open a page: residents with a completed profile, staff with a capability."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from ..permissions import Capability, has_capability, person_of


def resident_required(view):
    """Pages of Mon espace: a login with a completed profile."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        person = person_of(request.user)
        if person is None:
            return redirect("identity:onboarding")
        request.person = person
        return view(request, *args, **kwargs)

    return wrapper


def capability_required(capability: Capability):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not has_capability(request.user, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
