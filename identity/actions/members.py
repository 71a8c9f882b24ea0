"""A resident corrects or removes a member of their household: a guardian for a child in their
care, an adult for themself, and for a partner who has no account of their own.

A correction rewrites the names and date of birth of a member the town hall has not verified;
a verified member (`Person.verified_at`: a clerk saw the family record book) is corrected by a
clerk only (identity.actions.corrections.correct_identity), who sees the proof again.

A removal never deletes a person: the audit trail, the sales and the taps name them. The member
leaves: they move to a household of their own (with no address until one is declared), their
guardianship links end today (the rows stay, dated), and the household no longer counts them.
It is refused, with the reason, where it would lose something: what the services registered as
still held (a pass, entries left, a card, money on a wallet — `register_removal_check`), or the
only adult with an account of a household that keeps other members."""

from collections.abc import Callable
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import Conflict, DomainError, Forbidden
from ..models import AuditEntry, Guardianship, Household, Person, User, age_on
from ..permissions import person_of
from .audit import record_audit_entry
from .corrections import rename_person
from .household import ADULT_AGE, check_birth_date, locked

Channel = AuditEntry.Channel

# Upper floors (cards, the catalogue, payments, the services) say what a member still holds
# that leaving the household would lose: each check answers a sentence, or None.
RemovalCheck = Callable[[Person, date], str | None]
_removal_checks: dict[str, RemovalCheck] = {}


def register_removal_check(name: str, check: RemovalCheck) -> None:
    """Called by an app when it is ready; registering the same name again replaces it."""
    _removal_checks[name] = check


def removal_obstacles(person: Person, *, on: date | None = None) -> list[str]:
    """Why this member cannot leave their household today (empty: they can)."""
    day = on or timezone.localdate()
    reasons = []
    for name in sorted(_removal_checks):
        reason = _removal_checks[name](person, day)
        if reason:
            reasons.append(reason)
    return reasons


def can_change_member(actor: User, person: Person) -> bool:
    """A guardian for a child in their care, an adult for themself, an adult of the household
    for a partner without an account of their own."""
    own = person_of(actor)
    if own is None or own.household_id != person.household_id:
        return False
    if own.pk == person.pk:
        return True
    if person.role == Person.Role.CHILD:
        return Guardianship.objects.active().filter(guardian=own, child=person).exists()
    return own.role == Person.Role.ADULT and person.user_id is None


def _member(actor: User, person: Person) -> Person:
    """The member, read again under the household's lock, if the actor may change them."""
    if not can_change_member(actor, person):
        raise Forbidden(_("You cannot change this member of the household."))
    locked(person.household)
    person = Person.objects.select_related("household").get(pk=person.pk)
    if not can_change_member(actor, person):  # they left meanwhile
        raise Forbidden(_("You cannot change this member of the household."))
    return person


@transaction.atomic
def correct_member(
    *,
    actor: User,
    person: Person,
    first_name: str,
    last_name: str,
    birth_date: date,
    channel: str = Channel.WEB,
) -> Person:
    """Fix a typing slip in a member's names or date of birth. Refused for a member the town
    hall verified (a clerk corrects them), for a child who would be 18 or more, an adult under
    18, and for a correction that makes them another member's double."""
    first_name, last_name = first_name.strip(), last_name.strip()
    if not first_name:
        raise DomainError(_("Enter the first name."), field="first_name")
    if not last_name:
        raise DomainError(_("Enter the last name."), field="last_name")
    today = timezone.localdate()
    check_birth_date(birth_date, today=today)
    person = _member(actor, person)
    if person.verified_at is not None:
        raise Conflict(
            _(
                "The town hall verified %(name)s's identity: ask the town hall to correct it, "
                "with the proof."
            )
            % {"name": person.first_name},
            code="verified_member",
        )
    age = age_on(birth_date, today)
    if person.role == Person.Role.CHILD and age >= ADULT_AGE:
        raise DomainError(_("A child is under 18."), field="birth_date")
    if person.role == Person.Role.ADULT and age < ADULT_AGE:
        raise DomainError(_("An adult is 18 or older."), field="birth_date")
    changes = rename_person(
        person, first_name=first_name, last_name=last_name, birth_date=birth_date
    )
    record_audit_entry(
        actor=actor,
        action="household.member_corrected",
        person=person,
        changes=changes,
        channel=channel,
    )
    return person


def removal_refusal(person: Person, *, on: date | None = None) -> Conflict | None:
    """Why this member cannot leave their household now, as the refusal `remove_member` raises
    (the page shows the same sentence instead of the button), or None."""
    obstacles = removal_obstacles(person, on=on)
    if obstacles:
        return Conflict(
            _("%(name)s cannot leave the household yet: %(reasons)s.")
            % {"name": person.full_name, "reasons": "; ".join(obstacles)},
            code="member_holds_something",
        )
    others = Person.objects.filter(household_id=person.household_id).exclude(pk=person.pk)
    if not others.exists():
        return Conflict(
            _("%(name)s is the only member of this household.") % {"name": person.full_name},
            code="only_member",
        )
    if (
        person.user_id is not None
        and not others.filter(role=Person.Role.ADULT, user__isnull=False).exists()
    ):
        return Conflict(
            _(
                "You are the only adult with an account in this household: the other members "
                "would have nobody to manage them. The town hall can help."
            ),
            code="last_manager",
        )
    return None


@transaction.atomic
def remove_member(*, actor: User, person: Person, channel: str = Channel.WEB) -> Person:
    """The member leaves the household (see the module's docstring). Returns the person, in
    their own new household."""
    person = _member(actor, person)
    household = person.household
    today = timezone.localdate()
    refusal = removal_refusal(person, on=today)
    if refusal is not None:
        raise refusal
    # Links within the household end; a guardian living elsewhere keeps theirs.
    ended = Guardianship.objects.active().filter(
        Q(child=person, guardian__household=household)
        | Q(guardian=person, child__household=household)
    )
    ended.update(ended_on=today)
    # The audit entry stays with the household they left (its residents read it there).
    record_audit_entry(
        actor=actor,
        action="household.member_removed",
        household=household,
        person=person,
        target=person.role,
        channel=channel,
    )
    person.household = Household.objects.create()
    person.save(update_fields=["household"])
    return person
