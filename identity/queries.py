"""Reads of people, households and the territory used by several views and routers."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from .models import (
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
    Street,
    normalise_street_name,
    street_part,
)
from .permissions import active_roles, manages_staff_at


@dataclass(frozen=True)
class HouseholdOverview:
    household: Household
    members: list[Person]
    address: HouseholdAddress | None
    address_history: list[HouseholdAddress]
    quotient: FamilyQuotient | None
    quotient_history: list[FamilyQuotient]
    guardians_by_child: dict[int, list[Person]]

    @property
    def is_resident(self) -> bool:
        return self.address is not None and self.address.commune.is_member


def current_address(household: Household, *, on: date | None = None) -> HouseholdAddress | None:
    """The address in force on a day (today by default), from the dated history."""
    day = on or timezone.localdate()
    return (
        household.addresses.select_related("commune__territory")
        .filter(valid_from__lte=day)
        .exclude(valid_until__lte=day)
        .first()
    )


def family_quotient_on(household: Household, day: date) -> FamilyQuotient | None:
    """The family quotient in force on a day: the latest declaration covering it (a corrected
    declaration no longer counts: its correction does)."""
    return (
        household.quotients.filter(
            valid_from__lte=day, valid_until__gte=day, correction__isnull=True
        )
        .order_by("-declared_at", "-pk")
        .first()
    )


def household_overview(household: Household, *, on: date | None = None) -> HouseholdOverview:
    day = on or timezone.localdate()
    members = list(household.members.all())
    guardians_by_child: dict[int, list[Person]] = {}
    by_pk = {member.pk: member for member in members}
    for child_pk, guardian_pk in (
        Guardianship.objects.active()
        .filter(child__household=household)
        .values_list("child_id", "guardian_id")
    ):
        if guardian_pk in by_pk:
            guardians_by_child.setdefault(child_pk, []).append(by_pk[guardian_pk])
    return HouseholdOverview(
        household=household,
        members=members,
        address=current_address(household, on=day),
        address_history=list(household.addresses.select_related("commune")),
        quotient=family_quotient_on(household, day),
        quotient_history=list(
            # A declaration a clerk corrected is shown as such (`is_corrected`), never hidden.
            household.quotients.annotate(
                is_corrected=Exists(FamilyQuotient.objects.filter(correction_of=OuterRef("pk")))
            )
        ),
        guardians_by_child=guardians_by_child,
    )


@dataclass(frozen=True)
class MemberFile:
    """A member as the clerk's file shows them: their live guardian links (a guardian may live
    in another household) and every reduced-rate status, ended ones included."""

    person: Person
    guardianships: list[Guardianship]
    reduced_rates: list[ReducedRateStatus]


@dataclass(frozen=True)
class ResidentFile:
    overview: HouseholdOverview
    members: list[MemberFile]
    adults: list[Person]


def resident_file(household: Household) -> ResidentFile:
    overview = household_overview(household)
    links: dict[int, list[Guardianship]] = {}
    for link in (
        Guardianship.objects.active()
        .filter(child__household=household)
        .select_related("guardian")
        .order_by("since", "pk")
    ):
        links.setdefault(link.child_id, []).append(link)
    statuses: dict[int, list[ReducedRateStatus]] = {}
    for status in ReducedRateStatus.objects.filter(person__household=household):
        statuses.setdefault(status.person_id, []).append(status)
    return ResidentFile(
        overview=overview,
        members=[
            MemberFile(person, links.get(person.pk, []), statuses.get(person.pk, []))
            for person in overview.members
        ],
        adults=[person for person in overview.members if person.role == Person.Role.ADULT],
    )


def household_of_public_id(public_id: str) -> Household | None:
    return Household.objects.filter(public_id=public_id).first()


def communes_for_selection() -> QuerySet[Commune]:
    """Member communes first, then the others (non-residents can hold an account too)."""
    return Commune.objects.select_related("territory").order_by("territory", "name")


def street_for(commune: Commune, address_line: str) -> Street | None:
    """The street of the commune an address line is on ("12 av. Jean-Jaurès"), if the
    territory's street list has it."""
    wanted = normalise_street_name(street_part(address_line))
    if not wanted:
        return None
    return Street.objects.filter(commune=commune, normalised=wanted).first()


def streets_known(commune: Commune) -> bool:
    """Whether the commune's streets were imported (an address there can be checked)."""
    return Street.objects.filter(commune=commune).exists()


def staff_accesses_to_household(household: Household) -> QuerySet[AuditEntry]:
    """What staff saw or changed in a household's file: "who looked at my file"."""
    return (
        AuditEntry.objects.filter(household=household)
        .exclude(actor_role="")
        .select_related("actor")
        .order_by("-at", "-pk")
    )


def reduced_categories_on(person: Person, day: date) -> set[str]:
    """The reduced-rate categories (ReducedRateStatus.Category values) a person holds on a day:
    those of the statuses a clerk verified covering it (up to the day a clerk ended one)."""
    return set(
        ReducedRateStatus.objects.filter(person=person, valid_from__lte=day, valid_until__gte=day)
        .exclude(ended_on__lt=day)
        .values_list("category", flat=True)
    )


# --- The audit trail (administrators) ------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What an administrator narrows the trail to; empty values filter nothing. `actor` and
    `resident` are words of a name (or an email, for the actor); dates are local days,
    both included."""

    actor: str = ""
    resident: str = ""
    action: str = ""
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _name_matches(prefix: str, words: str) -> Q:
    """Every word in one of the name fields under `prefix` (first or last name)."""
    condition = Q()
    for word in words.split():
        condition &= Q(**{f"{prefix}first_name__icontains": word}) | Q(
            **{f"{prefix}last_name__icontains": word}
        )
    return condition


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_trail(filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The trail, newest first, with what its pages show loaded in a few queries."""
    entries = AuditEntry.objects.select_related(
        "actor", "actor__person", "person", "household"
    ).prefetch_related("household__members")
    if filters.actor.strip():
        words = filters.actor.strip()
        entries = entries.filter(
            _name_matches("actor__", words)
            | _name_matches("actor__person__", words)
            | Q(actor__email__iexact=words)
        )
    if filters.resident.strip():
        words = filters.resident.strip()
        households = Person.objects.filter(_name_matches("", words)).values("household_id")
        entries = entries.filter(
            _name_matches("person__", words) | Q(person__isnull=True, household__in=households)
        )
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.channel:
        entries = entries.filter(channel=filters.channel)
    if filters.date_from:
        entries = entries.filter(at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        entries = entries.filter(at__lt=_local_midnight(filters.date_to + timedelta(days=1)))
    return entries.order_by("-at", "-pk")


# --- Staff applications' tokens (administrators) -------------------------------------------


def application_tokens() -> QuerySet[ApiToken]:
    """Tokens of staff applications, live ones first, with their scope (the account's roles)."""
    return (
        ApiToken.objects.filter(user__is_application=True)
        .select_related("user", "issued_by", "issued_by__person")
        .prefetch_related(
            Prefetch(
                "user__staff_roles",
                queryset=StaffRole.objects.select_related("facility").order_by("facility__name"),
            )
        )
        .order_by(F("revoked_at").desc(nulls_first=True), "name", "pk")
    )


def facilities_managed_by(user) -> QuerySet[Facility]:
    """The facilities whose staff `user` manages (permissions.manages_staff_at): all of them
    for a town-wide administrator."""
    if manages_staff_at(user, None):
        return Facility.objects.order_by("name")
    ids = [
        grant.facility_id for grant in active_roles(user) if manages_staff_at(user, grant.facility)
    ]
    return Facility.objects.filter(pk__in=ids).order_by("name")
