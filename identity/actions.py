"""Every change to people, households, staff roles and the audit trail, one function per use
case. Staff reads of personal data also live here, because each one writes an audit entry."""

import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import queries, tokens
from .errors import Conflict, DomainError, Forbidden
from .models import (
    AccessReason,
    ApiToken,
    AuditEntry,
    Commune,
    Facility,
    FamilyQuotient,
    Guardianship,
    Household,
    HouseholdAddress,
    Person,
    ReducedRateStatus,
    StaffRole,
    User,
    age_on,
)
from .permissions import Capability, active_roles, can_manage_household, has_capability, person_of

logger = logging.getLogger(__name__)

Channel = AuditEntry.Channel

MAX_FAMILY_QUOTIENT = 20_000  # euros; well above any real quotient, rejects typing slips
MAX_QUOTIENT_PERIOD = timedelta(days=366)
ADULT_AGE = 18
# Larger households exist, but rarely: a clerk adds members past it after seeing the family
# record book. Stops a household "growing" to dozens of members (and the quotas with it).
MAX_HOUSEHOLD_MEMBERS = 15
POSTCODE = re.compile(r"^\d{5}$")


# --- Audit ---------------------------------------------------------------------------------


def record_audit_entry(
    *,
    actor: User | None,
    action: str,
    household: Household | None = None,
    person: Person | None = None,
    target: str = "",
    reason: str = "",
    channel: str = Channel.WEB,
) -> AuditEntry:
    """Append to the audit trail. Staff actors are stamped with their role so the resident's
    access log can say "town-hall clerk" without exposing more of the staff account."""
    roles = active_roles(actor) if actor is not None else []
    entry = AuditEntry.objects.create(
        actor=actor,
        actor_role=roles[0].role if roles else "",
        action=action,
        household=household if household is not None else getattr(person, "household", None),
        person=person,
        target=target,
        reason=reason,
        channel=channel,
    )
    logger.debug(
        "audit action=%s actor=%s household=%s",
        action,
        getattr(actor, "pk", None),
        getattr(entry.household, "pk", None),
    )
    return entry


# --- Residents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressInput:
    line1: str
    line2: str
    postcode: str
    commune: Commune


def _check_address(address: AddressInput) -> None:
    if not address.line1.strip():
        raise DomainError(_("Enter the street address."), field="line1")
    if not POSTCODE.match(address.postcode):
        raise DomainError(_("A postcode has five digits."), field="postcode")


def _check_birth_date(birth_date: date, *, today: date) -> None:
    if birth_date > today:
        raise DomainError(_("The date of birth is in the future."), field="birth_date")
    if birth_date < date(today.year - 120, 1, 1):
        raise DomainError(_("The date of birth is too far in the past."), field="birth_date")


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
    _check_birth_date(birth_date, today=today)
    if age_on(birth_date, today) < ADULT_AGE:
        raise DomainError(
            _("An account holder must be an adult; a guardian adds a child."), field="birth_date"
        )
    _check_address(address)
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
    HouseholdAddress.objects.create(
        household=household,
        line1=address.line1.strip(),
        line2=address.line2.strip(),
        postcode=address.postcode,
        commune=address.commune,
        valid_from=moved_in,
        recorded_by=user,
    )
    record_audit_entry(actor=user, action="household.created", household=household, person=person)
    return person


def _require_household_manager(actor: User, household: Household) -> None:
    if can_manage_household(actor, household):
        return
    if has_capability(actor, Capability.EDIT_RESIDENT_FILE):
        return
    raise Forbidden(_("You cannot change this household."))


def _locked(household: Household) -> Household:
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
    household = _locked(household)
    today = timezone.localdate()
    if role not in Person.Role.values:
        raise DomainError(_("Choose a child or an adult."), field="role")
    if not first_name.strip():
        raise DomainError(_("Enter the first name."), field="first_name")
    if not last_name.strip():
        raise DomainError(_("Enter the last name."), field="last_name")
    _check_birth_date(birth_date, today=today)
    age = age_on(birth_date, today)
    if role == Person.Role.CHILD and age >= ADULT_AGE:
        raise DomainError(_("A child is under 18 on the day they are added."), field="birth_date")
    if role == Person.Role.ADULT and age < ADULT_AGE:
        raise DomainError(_("An adult is 18 or older."), field="birth_date")
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
    _check_address(address)
    household = _locked(household)
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
    new = HouseholdAddress.objects.create(
        household=household,
        line1=address.line1.strip(),
        line2=address.line2.strip(),
        postcode=address.postcode,
        commune=address.commune,
        valid_from=moved_in,
        recorded_by=actor,
    )
    record_audit_entry(
        actor=actor, action="household.address_changed", household=household, channel=channel
    )
    return new


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
    household = _locked(household)
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


# --- Staff reads of personal data ----------------------------------------------------------


def _check_reason(reason: str) -> str:
    if reason not in AccessReason.values:
        raise DomainError(_("Say why you open this file."), field="reason")
    return reason


def search_residents(
    *, actor: User, query: str, reason: str, channel: str = Channel.COUNTER
) -> list[Person]:
    """A clerk looks a resident up by name or email; the search itself is audited."""
    if not has_capability(actor, Capability.SEARCH_RESIDENTS):
        raise Forbidden(_("Your role cannot search residents."))
    label = _check_reason(reason)
    terms = query.strip()
    if len(terms) < 2:
        raise DomainError(_("Type at least two letters."), field="q")
    matches = list(
        Person.objects.filter(
            Q(last_name__icontains=terms)
            | Q(first_name__icontains=terms)
            | Q(user__email__iexact=terms)
        )
        .select_related("household")
        .order_by("last_name", "first_name")[:50]
    )
    record_audit_entry(
        actor=actor,
        action="staff.residents_searched",
        target=f"{len(matches)} results",
        reason=label,
        channel=channel,
    )
    return matches


def open_resident_file(
    *, actor: User, household: Household, reason: str, channel: str = Channel.COUNTER
) -> queries.HouseholdOverview:
    """A staff member reads a household's file: allowed by role, always audited with a reason."""
    if not has_capability(actor, Capability.VIEW_RESIDENT_FILE):
        raise Forbidden(_("Your role cannot see residents' files."))
    label = _check_reason(reason)
    record_audit_entry(
        actor=actor,
        action="staff.file_viewed",
        household=household,
        target="household",
        reason=label,
        channel=channel,
    )
    return queries.household_overview(household)


# --- Staff roles ---------------------------------------------------------------------------


@transaction.atomic
def grant_staff_role(
    *, actor: User, user: User, role: str, facility: Facility | None = None
) -> StaffRole:
    if not has_capability(actor, Capability.MANAGE_STAFF):
        raise Forbidden(_("Only an administrator grants staff roles."))
    if role not in StaffRole.Role.values:
        raise DomainError(_("Unknown role."), field="role")
    grant, _created = StaffRole.objects.get_or_create(
        user=user, role=role, facility=facility, revoked_at=None
    )
    record_audit_entry(actor=actor, action="staff.role_granted", target=f"{role}:{user.pk}")
    return grant


@transaction.atomic
def revoke_staff_role(*, actor: User, grant: StaffRole) -> None:
    if not has_capability(actor, Capability.MANAGE_STAFF):
        raise Forbidden(_("Only an administrator revokes staff roles."))
    StaffRole.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    record_audit_entry(
        actor=actor, action="staff.role_revoked", target=f"{grant.role}:{grant.user_id}"
    )


# --- API tokens ----------------------------------------------------------------------------

API_TOKEN_LABEL = "ses"  # noqa: S105 - a label, not a secret


def issue_api_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and its clear value, shown once and never stored."""
    new = tokens.new_token(API_TOKEN_LABEL)
    token = ApiToken.objects.create(user=user, name=name, prefix=new.prefix, key_hash=new.key_hash)
    record_audit_entry(actor=user, action="api_token.issued", target=new.prefix)
    return token, new.raw


def authenticate_api_token(raw: str) -> User | None:
    parsed = tokens.parse(raw, API_TOKEN_LABEL)
    if parsed is None:
        return None
    prefix, secret = parsed
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if not tokens.matches(secret, token.key_hash):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        # Coarse last-use stamp: one write per token per five minutes, not per request.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_api_token(*, actor: User, token: ApiToken) -> None:
    if token.user_id != actor.pk and not has_capability(actor, Capability.MANAGE_STAFF):
        raise Forbidden(_("You cannot revoke this token."))
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    record_audit_entry(actor=actor, action="api_token.revoked", target=token.prefix)


# --- Reduced-rate statuses -----------------------------------------------------------------

MAX_REDUCED_RATE_PERIOD = timedelta(days=5 * 366)  # a disability card runs for years


@transaction.atomic
def record_reduced_rate_status(
    *,
    actor: User,
    person: Person,
    category: str,
    valid_from: date,
    valid_until: date,
    channel: str = Channel.COUNTER,
) -> ReducedRateStatus:
    """A clerk records a reduced-rate category after seeing its proof (student card, job
    seeker's certificate, disability card). Residents cannot declare one themselves: the
    tariff engine trusts these rows. Audited on the person's household."""
    if not has_capability(actor, Capability.EDIT_RESIDENT_FILE):
        raise Forbidden(_("Only a town-hall clerk records a reduced-rate status."))
    if category not in ReducedRateStatus.Category.values:
        raise DomainError(_("Choose a reduced-rate category."), field="category")
    if valid_until < valid_from:
        raise DomainError(_("The end of the period is before its start."), field="valid_until")
    if valid_until - valid_from > MAX_REDUCED_RATE_PERIOD:
        raise DomainError(
            _("A reduced-rate status is valid for five years at most."), field="valid_until"
        )
    status = ReducedRateStatus.objects.create(
        person=person,
        category=category,
        valid_from=valid_from,
        valid_until=valid_until,
        verified_by=actor,
    )
    record_audit_entry(
        actor=actor,
        action="person.reduced_rate_recorded",
        person=person,
        target=category,
        channel=channel,
    )
    return status
