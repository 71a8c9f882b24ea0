"""Reads of the catalogue shared by cards, readers' snapshots and Mon espace."""

from datetime import date

from django.db.models import Q, QuerySet

from .models import Entitlement


def current_entitlements(*, holder_ids: list[int], on: date) -> QuerySet[Entitlement]:
    """Entitlements usable on a day: passes in their period, entry books with entries left."""
    return Entitlement.objects.filter(
        holder_id__in=holder_ids,
        revoked_at__isnull=True,
        valid_from__lte=on,
        valid_until__gte=on,
    ).filter(Q(kind=Entitlement.Kind.PASS) | Q(entries_left__gt=0))
