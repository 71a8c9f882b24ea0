"""Staff reads of residents' data (each one audited) and staff roles."""

from allauth.account.adapter import get_adapter
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import queries
from ..errors import DomainError, Forbidden
from ..models import (
    AccessReason,
    AuditEntry,
    Facility,
    Household,
    Person,
    StaffRole,
    User,
)
from ..permissions import (
    ROLE_FACILITY_KINDS,
    Capability,
    active_roles,
    has_capability,
    manages_staff_at,
)
from .audit import record_audit_entry

Channel = AuditEntry.Channel


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
) -> queries.ResidentFile:
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
    return queries.resident_file(household)


def record_admin_reading(*, actor: User, model, person: Person | None = None) -> None:
    """A staff member opened an administration page that shows residents (a list of diets, an
    enrolment): recorded like a file opened, naming the resident when it is one row."""
    record_audit_entry(
        actor=actor,
        action="staff.admin_data_viewed",
        person=person,
        target=model._meta.label_lower,
        channel=Channel.COUNTER,
    )


# --- Staff roles ---------------------------------------------------------------------------


def check_staff_scope(
    *, actor: User, role: str, facility: Facility | None, field: str = "facility"
) -> None:
    """A role is granted where it works (a pool agent at a pool) and by an administrator who
    manages that facility (town-wide scopes by a town-wide administrator). `field` names the
    input a refusal points at."""
    if role not in StaffRole.Role.values:
        raise DomainError(_("Unknown role."), field="role")
    kinds = ROLE_FACILITY_KINDS[role]
    kind = facility.kind if facility is not None else None
    if kind not in kinds:
        role_label = StaffRole.Role(role).label
        if facility is None:
            message = _("The role “%(role)s” is held at a facility: choose one.") % {
                "role": role_label
            }
        else:
            message = _("The role “%(role)s” cannot be held at %(facility)s (%(kind)s).") % {
                "role": role_label,
                "facility": facility.name,
                "kind": facility.get_kind_display(),
            }
        raise DomainError(message, field=field)
    if not manages_staff_at(actor, facility):
        if facility is None:
            message = _("Only a town-wide administrator grants a town-wide role.")
        else:
            message = _("You do not manage the staff of %(facility)s.") % {
                "facility": facility.name
            }
        raise Forbidden(message, field=field)


@transaction.atomic
def grant_staff_role(
    *, actor: User, user: User, role: str, facility: Facility | None = None
) -> StaffRole:
    if not has_capability(actor, Capability.MANAGE_STAFF):
        raise Forbidden(_("Only an administrator grants staff roles."))
    check_staff_scope(actor=actor, role=role, facility=facility)
    grant, _created = StaffRole.objects.get_or_create(
        user=user, role=role, facility=facility, revoked_at=None
    )
    record_audit_entry(actor=actor, action="staff.role_granted", target=f"{role}:{user.pk}")
    return grant


@transaction.atomic
def revoke_staff_role(*, actor: User, grant: StaffRole) -> None:
    if not manages_staff_at(actor, grant.facility):
        raise Forbidden(_("Only an administrator of this facility revokes this role."))
    StaffRole.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    record_audit_entry(
        actor=actor, action="staff.role_revoked", target=f"{grant.role}:{grant.user_id}"
    )


RESET_REASON_MIN_LENGTH = 10


@transaction.atomic
def reset_second_factor(*, actor: User, user: User, reason: str) -> int:
    """A staff member lost their phone or security key: an administrator who manages every
    facility they work at removes their second factors (and recovery codes), so that their next
    sign-in asks them to set up a new one. Never one's own (a stolen session must not be able to
    remove the factor that protects it); the reason says how the person was recognised. The
    owner is told by email. Returns the number of authenticators removed."""
    if actor.pk == user.pk:
        raise Forbidden(_("Another administrator resets your own second factor."))
    scopes = [grant.facility for grant in active_roles(user)] or [None]
    if not all(manages_staff_at(actor, facility) for facility in scopes):
        raise Forbidden(
            _("Only an administrator of every facility this person works at can do it.")
        )
    reason = " ".join(reason.split())
    if len(reason) < RESET_REASON_MIN_LENGTH:
        raise DomainError(
            _("Say why, and how you made sure it is this person (at least %(count)d characters).")
            % {"count": RESET_REASON_MIN_LENGTH},
            field="reason",
        )
    removed, _by_model = Authenticator.objects.filter(user=user).delete()
    if not removed:
        raise DomainError(_("This account has no second factor to reset."))
    record_audit_entry(
        actor=actor,
        action="staff.second_factor_reset",
        target=f"account:{user.pk}",
        reason=reason[:200],
    )
    transaction.on_commit(
        lambda: get_adapter().send_mail("identity/email/second_factor_reset", user.email, {})
    )
    return removed


@transaction.atomic
def create_first_administrator(
    *, email: str, first_name: str, last_name: str, password: str
) -> User:
    """The first town-wide administrator of a new installation (`manage.py
    create_first_administrator`), who then grants every other role through the pages. Refused
    once an administrator exists: from then on, administrators are named by administrators."""
    from allauth.account.models import EmailAddress

    # Serialised: two installers at once still make one first administrator.
    list(StaffRole.objects.select_for_update().filter(role=StaffRole.Role.ADMIN))
    if StaffRole.objects.filter(role=StaffRole.Role.ADMIN, revoked_at__isnull=True).exists():
        raise DomainError(
            _("An administrator exists already: administrators name the others."), field="email"
        )
    email = User.objects.normalize_email(email).strip()
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(_("An account with this email address exists already."), field="email")
    user = User.objects.create_superuser(
        email=email, password=password, first_name=first_name, last_name=last_name
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    StaffRole.objects.create(user=user, role=StaffRole.Role.ADMIN, facility=None)
    record_audit_entry(
        actor=None,
        action="staff.role_granted",
        target=f"{StaffRole.Role.ADMIN}:{user.pk}",
        channel=AuditEntry.Channel.SYSTEM,
    )
    return user
