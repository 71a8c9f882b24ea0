"""The trust rules: what a resident declares that lowers a price or raises a quota (a family
quotient, residency in the territory, the household's size) is applied as the territory's
TrustPolicy says for that criterion, and what a clerk verified always wins.

Reads (used by the tariff engine and the waste-bag quota):
- `family_quotient_on`: the verified quotient covering the day if there is one (a newer
  unverified declaration never overrides it); else the latest declaration, if the rule lets an
  unverified one apply that day.
- `is_resident_on`: the address in force that day is in a member commune, and either a clerk
  verified a proof of it dated that day or earlier, or the rule lets the declared address apply
  that day, or the household's previous address was verified resident (a verified residency is
  not undone by a move declared within the territory). A move out applies at once.
- `counted_household_size`: members with their own login, members a clerk confirmed, and the
  other declared members the rule lets count that day (never fewer than one).

Writes (a clerk, after seeing a proof; each audited): `record_verified_quotient`,
`verify_residency`, `confirm_members`. The document safe calls them when a clerk verifies a
CAF certificate or tax notice, a proof of address, a family record book."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .actions.audit import record_audit_entry
from .actions.household import declare_family_quotient
from .errors import DomainError, Forbidden
from .models import AuditEntry, FamilyQuotient, Household, HouseholdAddress, Person, TrustPolicy
from .permissions import Capability, can_manage_household, has_capability
from .queries import current_address

Criterion = TrustPolicy.Criterion
Mode = TrustPolicy.Mode


@dataclass(frozen=True)
class Rule:
    mode: str
    grace_days: int = 0

    def applies(self, declared_at: datetime, day: date) -> bool:
        """Whether an unverified declaration made at `declared_at` counts on `day`."""
        if self.mode == Mode.IMMEDIATE:
            return True
        if self.mode == Mode.UNTIL_DATE:
            return day <= timezone.localdate(declared_at) + timedelta(days=self.grace_days)
        return False


def rule_for(criterion: str) -> Rule:
    """The territory's rule for a criterion (one territory per installation); `immediate`
    where the town has set none."""
    policy = TrustPolicy.objects.filter(criterion=criterion).order_by("territory_id").first()
    if policy is None:
        return Rule(Mode.IMMEDIATE)
    return Rule(policy.mode, policy.grace_days)


# --- Reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedQuotient:
    quotient: FamilyQuotient
    verified: bool

    @property
    def amount(self) -> int:
        return self.quotient.amount


def family_quotient_on(household: Household, day: date) -> TrustedQuotient | None:
    covering = list(
        household.quotients.filter(valid_from__lte=day, valid_until__gte=day).order_by(
            "-declared_at", "-pk"
        )
    )
    verified = next((q for q in covering if q.source == FamilyQuotient.Source.VERIFIED), None)
    if verified is not None:
        return TrustedQuotient(verified, verified=True)
    if covering and rule_for(Criterion.FAMILY_QUOTIENT).applies(covering[0].declared_at, day):
        return TrustedQuotient(covering[0], verified=False)
    return None


def _verified_resident(address: HouseholdAddress, day: date) -> bool:
    return (
        address.commune.is_member
        and address.verified_from is not None
        and day >= address.verified_from
    )


def is_resident_on(household: Household, day: date) -> bool:
    address = current_address(household, on=day)
    if address is None or not address.commune.is_member:
        return False
    if _verified_resident(address, day):
        return True
    if rule_for(Criterion.RESIDENCY).applies(address.recorded_at, day):
        return True
    previous = (
        household.addresses.select_related("commune__territory")
        .filter(valid_until=address.valid_from)
        .first()
    )
    # A verified residency is not undone by a move declared within the territory.
    return (
        previous is not None and previous.commune.is_member and previous.verified_from is not None
    )


def counted_household_size(household: Household, day: date) -> int:
    rule = rule_for(Criterion.HOUSEHOLD_SIZE)
    counted = sum(
        1
        for user_id, verified_at, created_at in household.members.values_list(
            "user_id", "verified_at", "created_at"
        )
        if user_id is not None or verified_at is not None or rule.applies(created_at, day)
    )
    return max(counted, 1)


@dataclass(frozen=True)
class PricingFacts:
    """What the tariffs apply to a household on a day, as Mon espace tells it: the quotient the
    tariffs use (None: full price), a newer declaration still waiting for a clerk, and whether
    the resident prices apply."""

    quotient: TrustedQuotient | None
    pending_quotient: FamilyQuotient | None
    resident: bool
    address_in_territory: bool


def pricing_facts_on(household: Household, day: date) -> PricingFacts:
    applied = family_quotient_on(household, day)
    latest = (
        household.quotients.filter(valid_from__lte=day, valid_until__gte=day)
        .order_by("-declared_at", "-pk")
        .first()
    )
    waiting = latest is not None and (applied is None or applied.quotient != latest)
    address = current_address(household, on=day)
    return PricingFacts(
        quotient=applied,
        pending_quotient=latest if waiting else None,
        resident=is_resident_on(household, day),
        address_in_territory=address is not None and address.commune.is_member,
    )


# --- A clerk's verifications ----------------------------------------------------------------


def _require_verifier(actor, household: Household) -> None:
    if not has_capability(actor, Capability.EDIT_RESIDENT_FILE):
        raise Forbidden(_("Only a town-hall clerk verifies a resident's proofs."))
    if can_manage_household(actor, household):
        raise Forbidden(_("You cannot verify your own household's proofs."))


@transaction.atomic
def record_verified_quotient(
    *,
    actor,
    household: Household,
    amount: int,
    valid_from: date,
    valid_until: date,
    evidence: str,
    channel: str = AuditEntry.Channel.COUNTER,
) -> FamilyQuotient:
    """The family quotient a clerk read on a CAF certificate or a tax notice: recorded as
    verified (the same checks as any declaration), with what proves it."""
    _require_verifier(actor, household)
    quotient = declare_family_quotient(
        actor=actor,
        household=household,
        amount=amount,
        valid_from=valid_from,
        valid_until=valid_until,
        channel=channel,
    )
    FamilyQuotient.objects.filter(pk=quotient.pk).update(evidence=evidence[:60])
    quotient.evidence = evidence[:60]
    return quotient


@transaction.atomic
def verify_residency(
    *,
    actor,
    household: Household,
    proof_date: date,
    evidence: str,
    channel: str = AuditEntry.Channel.COUNTER,
) -> HouseholdAddress:
    """A clerk saw a proof of the current address dated `proof_date`: the household is
    resident from that day (for an address in a member commune)."""
    _require_verifier(actor, household)
    Household.objects.select_for_update().filter(pk=household.pk).first()
    today = timezone.localdate()
    if proof_date > today:
        raise DomainError(_("The date of the proof is in the future."), field="proof_date")
    address = current_address(household, on=today)
    if address is None:
        raise DomainError(_("This household has no current address."), field="proof_date")
    if proof_date < address.valid_from:
        raise DomainError(
            _("The proof is dated before the move to this address (%(date)s).")
            % {"date": address.valid_from.strftime("%d/%m/%Y")},
            field="proof_date",
        )
    if address.verified_from is None or proof_date < address.verified_from:
        address.verified_from = proof_date
    address.verified_at = timezone.now()
    address.verified_by = actor
    address.evidence = evidence[:60]
    address.save(update_fields=["verified_from", "verified_at", "verified_by", "evidence"])
    record_audit_entry(
        actor=actor,
        action="household.residency_verified",
        household=household,
        target=evidence[:120],
        channel=channel,
    )
    return address


@transaction.atomic
def confirm_members(
    *,
    actor,
    household: Household,
    members: list[Person],
    evidence: str,
    channel: str = AuditEntry.Channel.COUNTER,
) -> int:
    """A clerk saw that these people belong to the household (a family record book): they
    count in its size whatever the household-size trust rule. Returns how many were new."""
    _require_verifier(actor, household)
    if any(member.household_id != household.pk for member in members):
        raise DomainError(_("Choose members of this household."), field="members")
    confirmed = Person.objects.filter(
        pk__in=[member.pk for member in members], verified_at__isnull=True
    ).update(verified_at=timezone.now(), verified_by=actor)
    record_audit_entry(
        actor=actor,
        action="household.members_confirmed",
        household=household,
        target=f"{confirmed} members; {evidence[:80]}",
        channel=channel,
    )
    return confirmed
