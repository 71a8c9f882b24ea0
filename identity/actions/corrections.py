"""A town-hall clerk corrects a resident's file after giving a reason: names and date of birth,
an address period, a family quotient declaration, legal guardians.

Every correction is refused as a whole (nothing written, nothing audited) when its input makes
no sense, and otherwise writes one audit entry with the reason and the before/after, which the
resident reads in *Who looked at my file*. History is kept: a family quotient correction is a
new declaration pointing at the one it corrects, an ended guardianship keeps its row."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import Conflict, DomainError, Forbidden
from ..models import (
    AuditEntry,
    FamilyQuotient,
    Guardianship,
    HouseholdAddress,
    Person,
    User,
    age_on,
)
from ..permissions import Capability, has_capability
from .audit import record_audit_entry
from .household import (
    ADULT_AGE,
    AddressInput,
    check_address,
    check_birth_date,
    check_family_quotient,
    check_not_a_member_yet,
    locked,
)

Channel = AuditEntry.Channel

MAX_REASON_LENGTH = 200  # AuditEntry.reason
MAX_MOVE_AHEAD = timedelta(days=90)  # as for a declared move


def require_clerk(actor: User) -> None:
    if not has_capability(actor, Capability.EDIT_RESIDENT_FILE):
        raise Forbidden(_("Only a town-hall clerk corrects a resident's file."))


def check_correction_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give the reason for this correction."), field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            _("The reason is %(max)d characters at most.") % {"max": MAX_REASON_LENGTH},
            field="reason",
        )
    return reason


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _changes(row, after: dict) -> dict[str, list[str]]:
    """{field: [before, after]} for the fields of `row` whose value `after` changes, as text;
    refused when there is none."""
    changes = {
        field: [_as_text(getattr(row, field)), _as_text(value)]
        for field, value in after.items()
        if _as_text(getattr(row, field)) != _as_text(value)
    }
    if not changes:
        raise DomainError(_("Nothing was changed: correct at least one field."))
    return changes


def _apply(row, after: dict) -> dict[str, list[str]]:
    """Write `after` on `row` in place; returns its changes (for the audit entry)."""
    changes = _changes(row, after)
    for field, value in after.items():
        setattr(row, field, value)
    row.save(update_fields=list(after))
    return changes


def rename_person(
    person: Person, *, first_name: str, last_name: str, birth_date: date
) -> dict[str, list[str]]:
    """Write a member's names and birth date (the household's lock held), refused when they
    would make them another member of the household; the changes, for the audit entry."""
    check_not_a_member_yet(
        person.household,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        excluding=person,
    )
    return _apply(
        person, {"first_name": first_name, "last_name": last_name, "birth_date": birth_date}
    )


@transaction.atomic
def correct_identity(
    *,
    actor: User,
    person: Person,
    first_name: str,
    last_name: str,
    birth_date: date,
    reason: str,
    channel: str = Channel.COUNTER,
) -> Person:
    """Names and date of birth, as on the proof the resident shows."""
    require_clerk(actor)
    reason = check_correction_reason(reason)
    first_name, last_name = first_name.strip(), last_name.strip()
    if not first_name:
        raise DomainError(_("Enter the first name."), field="first_name")
    if not last_name:
        raise DomainError(_("Enter the last name."), field="last_name")
    today = timezone.localdate()
    check_birth_date(birth_date, today=today)
    locked(person.household)
    person = Person.objects.get(pk=person.pk)
    if person.role == Person.Role.ADULT and age_on(birth_date, today) < ADULT_AGE:
        raise DomainError(_("An adult is 18 or older."), field="birth_date")
    changes = rename_person(
        person, first_name=first_name, last_name=last_name, birth_date=birth_date
    )
    record_audit_entry(
        actor=actor,
        action="person.corrected",
        person=person,
        reason=reason,
        changes=changes,
        channel=channel,
    )
    return person


def _overlap(
    start: date, end: date | None, other: HouseholdAddress
) -> bool:  # periods are [from, until): a move day belongs to the new address
    other_end = other.valid_until or date.max
    return start < other_end and other.valid_from < (end or date.max)


@transaction.atomic
def correct_address_period(
    *,
    actor: User,
    address: HouseholdAddress,
    lines: AddressInput,
    valid_from: date,
    valid_until: date | None,
    reason: str,
    channel: str = Channel.COUNTER,
) -> HouseholdAddress:
    """One period of the address history: its address or its dates. Periods never overlap
    and one at most is current (no end)."""
    require_clerk(actor)
    reason = check_correction_reason(reason)
    check_address(lines)
    today = timezone.localdate()
    if valid_from > today + MAX_MOVE_AHEAD:
        raise DomainError(_("A period starts at most three months ahead."), field="valid_from")
    if valid_until is not None and valid_until <= valid_from:
        raise DomainError(_("The end of the period is before its start."), field="valid_until")
    household = locked(address.household)
    address = HouseholdAddress.objects.select_related("commune").get(pk=address.pk)
    others = household.addresses.exclude(pk=address.pk)
    if valid_until is None and others.filter(valid_until__isnull=True).exists():
        raise DomainError(
            _("Another address is the current one: give this period its end."),
            field="valid_until",
        )
    for other in others:
        if _overlap(valid_from, valid_until, other):
            starts_inside = other.valid_from <= valid_from < (other.valid_until or date.max)
            until = other.valid_until.strftime("%d/%m/%Y") if other.valid_until else _("today")
            raise DomainError(
                _("This period overlaps the address %(address)s (%(start)s – %(end)s).")
                % {
                    "address": f"{other.line1}, {other.postcode}",
                    "start": other.valid_from.strftime("%d/%m/%Y"),
                    "end": until,
                },
                field="valid_from" if starts_inside else "valid_until",
            )
    changes = _apply(
        address,
        {
            "line1": lines.line1.strip(),
            "line2": lines.line2.strip(),
            "postcode": lines.postcode,
            "commune": lines.commune,
            "valid_from": valid_from,
            "valid_until": valid_until,
        },
    )
    record_audit_entry(
        actor=actor,
        action="household.address_corrected",
        household=household,
        reason=reason,
        changes=changes,
        channel=channel,
    )
    return address


@transaction.atomic
def correct_family_quotient(
    *,
    actor: User,
    quotient: FamilyQuotient,
    amount: int,
    valid_from: date,
    valid_until: date,
    reason: str,
    channel: str = Channel.COUNTER,
) -> FamilyQuotient:
    """A new, verified declaration replaces a wrong one; the wrong one stays in the history,
    pointing at its correction, and no longer counts."""
    require_clerk(actor)
    reason = check_correction_reason(reason)
    check_family_quotient(amount=amount, valid_from=valid_from, valid_until=valid_until)
    household = locked(quotient.household)
    quotient = FamilyQuotient.objects.get(pk=quotient.pk)
    if FamilyQuotient.objects.filter(correction_of=quotient).exists():
        raise Conflict(_("This declaration is already corrected: correct its correction."))
    changes = _changes(
        quotient, {"amount": amount, "valid_from": valid_from, "valid_until": valid_until}
    )
    correction = FamilyQuotient.objects.create(
        household=household,
        amount=amount,
        valid_from=valid_from,
        valid_until=valid_until,
        source=FamilyQuotient.Source.VERIFIED,
        declared_by=actor,
        correction_of=quotient,
    )
    record_audit_entry(
        actor=actor,
        action="household.quotient_corrected",
        household=household,
        reason=reason,
        changes=changes,
        channel=channel,
    )
    return correction


@transaction.atomic
def add_guardian(
    *,
    actor: User,
    child: Person,
    guardian: Person,
    reason: str,
    channel: str = Channel.COUNTER,
) -> Guardianship:
    """A legal guardian for a child (a parent, a guardian appointed by a court)."""
    require_clerk(actor)
    reason = check_correction_reason(reason)
    if child.role != Person.Role.CHILD:
        raise DomainError(_("Only a child has legal guardians."), field="child")
    if guardian.role != Person.Role.ADULT:
        raise DomainError(_("A legal guardian is an adult."), field="guardian")
    locked(child.household)
    if Guardianship.objects.active().filter(guardian=guardian, child=child).exists():
        raise DomainError(
            _("%(guardian)s is already a legal guardian of %(child)s.")
            % {"guardian": guardian.full_name, "child": child.first_name},
            field="guardian",
        )
    link = Guardianship.objects.create(guardian=guardian, child=child)
    record_audit_entry(
        actor=actor,
        action="person.guardian_added",
        person=child,
        reason=reason,
        changes={"guardian": ["", guardian.full_name]},
        channel=channel,
    )
    return link


@transaction.atomic
def end_guardianship(
    *,
    actor: User,
    guardianship: Guardianship,
    reason: str,
    channel: str = Channel.COUNTER,
) -> Guardianship:
    """The link ends today; its row stays with that date (never deleted)."""
    require_clerk(actor)
    reason = check_correction_reason(reason)
    locked(guardianship.child.household)
    link = Guardianship.objects.select_related("guardian", "child").get(pk=guardianship.pk)
    if link.ended_on is not None:
        raise Conflict(_("This legal guardianship has already ended."))
    link.ended_on = timezone.localdate()
    link.save(update_fields=["ended_on"])
    record_audit_entry(
        actor=actor,
        action="person.guardian_ended",
        person=link.child,
        reason=reason,
        changes={"guardian": [link.guardian.full_name, ""]},
        channel=channel,
    )
    return link
