"""A resident's household: registration, members, moves and family quotients."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import Conflict, DomainError, Forbidden
from ..models import (
    AuditEntry,
    Commune,
    FamilyQuotient,
    Guardianship,
    Household,
    HouseholdAddress,
    Person,
    User,
    age_on,
)
from ..permissions import Capability, can_manage_household, has_capability, person_of
from .audit import record_audit_entry

Channel = AuditEntry.Channel


MAX_FAMILY_QUOTIENT = 20_000  # euros; well above any real quotient, rejects typing slips
MAX_QUOTIENT_PERIOD = timedelta(days=366)
ADULT_AGE = 18
# Larger households exist, but rarely: a clerk adds members past it after seeing the family
# record book. Stops a household "growing" to dozens of members (and the quotas with it).
MAX_HOUSEHOLD_MEMBERS = 15
POSTCODE = re.compile(r"^\d{5}$")

# --- Residents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressInput:
    line1: str
    line2: str
    postcode: str
    commune: Commune


def check_address(address: AddressInput) -> None:
    if not address.line1.strip():
        raise DomainError(_("Enter the street address."), field="line1")
    if not POSTCODE.match(address.postcode):
        raise DomainError(_("A postcode has five digits."), field="postcode")


def check_birth_date(birth_date: date, *, today: date) -> None:
    if birth_date > today:
        raise DomainError(_("The date of birth is in the future."), field="birth_date")
    if birth_date < date(today.year - 120, 1, 1):
        raise DomainError(_("The date of birth is too far in the past."), field="birth_date")


def comparable_name(name: str) -> str:
    """A name as two spellings of the same person compare: without accents, case, hyphens or
    repeated spaces ("Léa-Rose  MARTIN" and "lea rose martin" are one)."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.replace("-", " ").replace("'", " ").casefold().split())


def check_not_a_member_yet(
    household: Household,
    *,
    first_name: str,
    last_name: str,
    birth_date: date,
    excluding: Person | None = None,
) -> None:
    """Refuse a second member with the same names and date of birth (the same child entered
    twice, or a correction turning one member into another)."""
    wanted = (comparable_name(first_name), comparable_name(last_name))
    others = household.members.filter(birth_date=birth_date)
    if excluding is not None:
        others = others.exclude(pk=excluding.pk)
    for other in others:
        if (comparable_name(other.first_name), comparable_name(other.last_name)) == wanted:
            raise Conflict(
                _("%(name)s, born on %(date)s, is already a member of this household.")
                % {"name": other.full_name, "date": birth_date.strftime("%d/%m/%Y")},
                field="first_name",
                code="already_a_member",
            )


def _open_address(
    household: Household, address: AddressInput, *, since: date, recorded_by: User
) -> HouseholdAddress:
    """The household's current address from `since` (the caller closed the previous one)."""
    return HouseholdAddress.objects.create(
        household=household,
        line1=address.line1.strip(),
        line2=address.line2.strip(),
        postcode=address.postcode,
        commune=address.commune,
        valid_from=since,
        recorded_by=recorded_by,
    )


@transaction.atomic
def register_resident(
    *,
    user: User,
    first_name: str,
    last_name: str,
    birth_date: date,
    address: AddressInput,
    moved_in: date,
) -> Person:
    """A new account completes its profile: it becomes the first adult of a new household."""
    today = timezone.localdate()
    # Lock the login row so a double submit cannot create two households.
    User.objects.select_for_update().get(pk=user.pk)
    if Person.objects.filter(user=user).exists():
        raise Conflict(_("Your profile is already complete."))
    if not first_name.strip():
        raise DomainError(_("Enter your first name."), field="first_name")
    if not last_name.strip():
        raise DomainError(_("Enter your last name."), field="last_name")
    check_birth_date(birth_date, today=today)
    if age_on(birth_date, today) < ADULT_AGE:
        raise DomainError(
            _("An account holder must be an adult; a guardian adds a child."), field="birth_date"
        )
    check_address(address)
    if moved_in > today:
        raise DomainError(_("The moving-in date is in the future."), field="moved_in")
    household = Household.objects.create()
    person = Person.objects.create(
        household=household,
        user=user,
        role=Person.Role.ADULT,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        birth_date=birth_date,
    )
    _open_address(household, address, since=moved_in, recorded_by=user)
    record_audit_entry(actor=user, action="household.created", household=household, person=person)
    return person


def _require_household_manager(actor: User, household: Household) -> None:
    if can_manage_household(actor, household):
        return
    if has_capability(actor, Capability.EDIT_RESIDENT_FILE):
        return
    raise Forbidden(_("You cannot change this household."))


def locked(household: Household) -> Household:
    """Serialise the changes to one household (address moves, quotient declarations)."""
    return Household.objects.select_for_update().get(pk=household.pk)


@transaction.atomic
def add_household_member(
    *,
    actor: User,
    household: Household,
    role: str,
    first_name: str,
    last_name: str,
    birth_date: date,
    channel: str = Channel.WEB,
) -> Person:
    """An adult adds a child (and becomes their guardian) or a partner to the household."""
    _require_household_manager(actor, household)
    household = locked(household)
    today = timezone.localdate()
    if role not in Person.Role.values:
        raise DomainError(_("Choose a child or an adult."), field="role")
    if not first_name.strip():
        raise DomainError(_("Enter the first name."), field="first_name")
    if not last_name.strip():
        raise DomainError(_("Enter the last name."), field="last_name")
    check_birth_date(birth_date, today=today)
    age = age_on(birth_date, today)
    if role == Person.Role.CHILD and age >= ADULT_AGE:
        raise DomainError(_("A child is under 18 on the day they are added."), field="birth_date")
    if role == Person.Role.ADULT and age < ADULT_AGE:
        raise DomainError(_("An adult is 18 or older."), field="birth_date")
    check_not_a_member_yet(
        household, first_name=first_name, last_name=last_name, birth_date=birth_date
    )
    by_staff = not can_manage_household(actor, household)
    if not by_staff and household.members.count() >= MAX_HOUSEHOLD_MEMBERS:
        raise Conflict(
            _(
                "A household has at most %(max)s members online: the town hall adds more "
                "after seeing your family record book."
            )
            % {"max": MAX_HOUSEHOLD_MEMBERS},
            code="household_full",
        )
    person = Person.objects.create(
        household=household,
        role=role,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        birth_date=birth_date,
        # Added by a clerk at the counter: they saw who the member is.
        verified_at=timezone.now() if by_staff else None,
        verified_by=actor if by_staff else None,
    )
    if role == Person.Role.CHILD:
        guardian = person_of(actor)
        if guardian is not None and guardian.household_id == household.pk:
            Guardianship.objects.create(guardian=guardian, child=person)
        else:
            # Added by staff: every adult of the household becomes a guardian.
            for adult in household.members.filter(role=Person.Role.ADULT):
                Guardianship.objects.create(guardian=adult, child=person)
    record_audit_entry(
        actor=actor, action="household.member_added", person=person, target=role, channel=channel
    )
    return person


@transaction.atomic
def change_address(
    *,
    actor: User,
    household: Household,
    address: AddressInput,
    moved_in: date,
    channel: str = Channel.WEB,
) -> HouseholdAddress:
    """A move: the current address is closed on the moving-in date, a new one opens."""
    _require_household_manager(actor, household)
    check_address(address)
    household = locked(household)
    today = timezone.localdate()
    if moved_in > today + timedelta(days=90):
        raise DomainError(_("Declare a move at most three months ahead."), field="moved_in")
    current = household.addresses.filter(valid_until__isnull=True).first()
    if current is not None:
        if moved_in <= current.valid_from:
            raise DomainError(
                _("The moving-in date must be after %(date)s, the start of your current address.")
                % {"date": current.valid_from.strftime("%d/%m/%Y")},
                field="moved_in",
            )
        current.valid_until = moved_in
        current.save(update_fields=["valid_until"])
    new = _open_address(household, address, since=moved_in, recorded_by=actor)
    record_audit_entry(
        actor=actor, action="household.address_changed", household=household, channel=channel
    )
    return new


def check_family_quotient(*, amount: int, valid_from: date, valid_until: date) -> None:
    if amount < 0 or amount > MAX_FAMILY_QUOTIENT:
        raise DomainError(
            _("A family quotient is between 0 and %(max)s €.") % {"max": MAX_FAMILY_QUOTIENT},
            field="amount",
        )
    if valid_until < valid_from:
        raise DomainError(_("The end of the period is before its start."), field="valid_until")
    if valid_until - valid_from > MAX_QUOTIENT_PERIOD:
        raise DomainError(
            _("A family quotient is valid for one year at most."), field="valid_until"
        )


@transaction.atomic
def declare_family_quotient(
    *,
    actor: User,
    household: Household,
    amount: int,
    valid_from: date,
    valid_until: date,
    channel: str = Channel.WEB,
) -> FamilyQuotient:
    """Record a family quotient for a period. A clerk's entry counts as verified."""
    _require_household_manager(actor, household)
    check_family_quotient(amount=amount, valid_from=valid_from, valid_until=valid_until)
    household = locked(household)
    by_staff = not can_manage_household(actor, household)
    quotient = FamilyQuotient.objects.create(
        household=household,
        amount=amount,
        valid_from=valid_from,
        valid_until=valid_until,
        source=FamilyQuotient.Source.VERIFIED if by_staff else FamilyQuotient.Source.DECLARED,
        declared_by=actor,
    )
    record_audit_entry(
        actor=actor, action="household.quotient_declared", household=household, channel=channel
    )
    return quotient
