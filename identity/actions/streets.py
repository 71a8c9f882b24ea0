"""The territory's streets: imported from the Base Adresse Nationale, one commune at a time."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from ..errors import DomainError
from ..models import AuditEntry, Commune, Street, User, normalise_street_name
from .audit import record_audit_entry
from .configuration import require_administrator

# The columns of the BAN's CSV files (adresse.data.gouv.fr, "adresses-<département>.csv", and
# the per-commune exports): ";"-separated, UTF-8, one row per address number.
BAN_COMMUNE = "code_insee"
BAN_STREET = "nom_voie"
BAN_PLACE = "nom_ld"


@dataclass(frozen=True)
class StreetImport:
    added: int
    already_known: int


def read_ban_street_names(lines: Iterable[str], *, insee_code: str) -> list[str]:
    """The street names of one commune in a BAN CSV (its rows of other communes skipped),
    each once, in the order first met."""
    reader = csv.DictReader(lines, delimiter=";")
    missing = {BAN_COMMUNE, BAN_STREET} - set(reader.fieldnames or ())
    if missing:
        raise DomainError(
            _("This is not a Base Adresse Nationale file: the columns %(names)s are missing.")
            % {"names": ", ".join(sorted(missing))},
            field="file",
        )
    names: dict[str, str] = {}
    for row in reader:
        if (row.get(BAN_COMMUNE) or "").strip() != insee_code:
            continue
        for column in (BAN_STREET, BAN_PLACE):
            name = (row.get(column) or "").strip()
            if name and normalise_street_name(name):
                names.setdefault(normalise_street_name(name), name)
    return list(names.values())


@transaction.atomic
def import_streets(
    *,
    actor: User | None,
    commune: Commune,
    names: Iterable[str],
    channel: str = AuditEntry.Channel.SYSTEM,
) -> StreetImport:
    """Add the streets of `commune` not known yet (matched by their normalised form); known
    ones are kept as they are. Run by an administrator, or by the system (the command)."""
    if actor is not None:
        require_administrator(actor)
    Commune.objects.select_for_update().get(pk=commune.pk)
    known = set(Street.objects.filter(commune=commune).values_list("normalised", flat=True))
    new: dict[str, Street] = {}
    for name in names:
        street = Street(commune=commune, name=name.strip()[:200])
        street.normalised = normalise_street_name(street.name)
        if street.normalised and street.normalised not in known:
            new.setdefault(street.normalised, street)
    Street.objects.bulk_create(new.values())
    result = StreetImport(added=len(new), already_known=len(known))
    record_audit_entry(
        actor=actor,
        action="territory.streets_imported",
        target=f"{commune.insee_code} +{result.added}",
        channel=channel,
    )
    return result
