"""The demo's bag quotas: this year's table (idempotent; the Martin household, four people,
gets four rolls at the Mairie de Cahors desk)."""

from django.db import transaction
from django.utils import timezone

from .models import BagQuota

# Household of at least N people → rolls per year.
QUOTAS = {1: 2, 2: 3, 3: 4, 5: 5}


@transaction.atomic
def load() -> None:
    year = timezone.localdate().year
    for min_members, rolls in QUOTAS.items():
        BagQuota.objects.get_or_create(
            year=year, min_members=min_members, defaults={"rolls": rolls}
        )
