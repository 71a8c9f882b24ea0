from django.conf import settings

from identity.permissions import capabilities, person_of


def sesame(request):
    user = getattr(request, "user", None)
    return {
        "territory_name": settings.SESAME_TERRITORY_NAME,
        "staff_capabilities": capabilities(user) if user is not None else set(),
        "current_person": person_of(user) if user is not None else None,
    }
