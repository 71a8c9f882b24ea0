"""Who may do what: the one place where Sésame decides it.

Staff get capabilities from their roles (least privilege: a pool agent scans cards at their
pool and nothing else); residents act on their own household and for the children they are
guardians of. Views, API routers and actions all ask here."""

from enum import StrEnum

from allauth.mfa.models import Authenticator

from .models import Facility, Household, Person, StaffRole, User

Role = StaffRole.Role


class Capability(StrEnum):
    SEARCH_RESIDENTS = "search_residents"
    VIEW_RESIDENT_FILE = "view_resident_file"
    EDIT_RESIDENT_FILE = "edit_resident_file"
    VIEW_RESIDENT_DOCUMENTS = "view_resident_documents"
    SCAN_CARDS = "scan_cards"
    VIEW_ATTENDANCE = "view_attendance"
    VIEW_PAYMENTS = "view_payments"
    REFUND_PAYMENTS = "refund_payments"
    VIEW_AUDIT_TRAIL = "view_audit_trail"
    MANAGE_STAFF = "manage_staff"
    MANAGE_TERRITORY = "manage_territory"
    HANDLE_APPOINTMENTS = "handle_appointments"
    HANDLE_PROCEDURES = "handle_procedures"
    ASSIST_AT_COUNTER = "assist_at_counter"
    FOLLOW_NOTIFICATIONS = "follow_notifications"
    READ_SCHOOL_LIST = "read_school_list"


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.POOL_AGENT: frozenset({Capability.SCAN_CARDS, Capability.VIEW_ATTENDANCE}),
    Role.LIBRARIAN: frozenset({Capability.SCAN_CARDS, Capability.VIEW_ATTENDANCE}),
    Role.CANTEEN_AGENT: frozenset({Capability.SCAN_CARDS, Capability.VIEW_ATTENDANCE}),
    # A school's head reads their school's list, and nothing of the residents' files.
    Role.SCHOOL_HEAD: frozenset({Capability.READ_SCHOOL_LIST}),
    Role.CLERK: frozenset(
        {
            Capability.SEARCH_RESIDENTS,
            Capability.VIEW_RESIDENT_FILE,
            Capability.EDIT_RESIDENT_FILE,
            Capability.VIEW_RESIDENT_DOCUMENTS,
            Capability.SCAN_CARDS,
            Capability.HANDLE_APPOINTMENTS,
            Capability.HANDLE_PROCEDURES,
            Capability.ASSIST_AT_COUNTER,
        }
    ),
    Role.FINANCE_OFFICER: frozenset({Capability.VIEW_PAYMENTS, Capability.REFUND_PAYMENTS}),
    Role.ADMIN: frozenset(
        {
            Capability.MANAGE_STAFF,
            Capability.MANAGE_TERRITORY,
            Capability.VIEW_AUDIT_TRAIL,
            Capability.FOLLOW_NOTIFICATIONS,
        }
    ),
}


# Where each role works: the kinds of facility it may be scoped to, None for town-wide (no
# facility). A pool agent at a library would scan cards where no pool pass counts.
ROLE_FACILITY_KINDS: dict[str, frozenset[str | None]] = {
    Role.POOL_AGENT: frozenset({Facility.Kind.POOL}),
    Role.LIBRARIAN: frozenset({Facility.Kind.LIBRARY}),
    Role.CANTEEN_AGENT: frozenset({Facility.Kind.SCHOOL}),
    Role.SCHOOL_HEAD: frozenset({Facility.Kind.SCHOOL}),
    Role.CLERK: frozenset({None, Facility.Kind.TOWN_HALL}),
    Role.FINANCE_OFFICER: frozenset({None, Facility.Kind.TOWN_HALL}),
    Role.ADMIN: frozenset({None, *Facility.Kind.values}),
}


def active_roles(user: User) -> list[StaffRole]:
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_sesame_active_roles", None)
    if cached is None:
        cached = list(
            StaffRole.objects.filter(user=user, revoked_at__isnull=True).select_related("facility")
        )
        user._sesame_active_roles = cached
    return cached


def is_staff_member(user: User) -> bool:
    return bool(active_roles(user))


def second_factor_missing(user: User) -> bool:
    """A staff login (or a superuser) without a TOTP or a passkey may do nothing but set one up,
    whichever way it comes in: a browser session, the API with that session, or a bearer token
    of its own. An application account never signs in (it has no password): its token was
    issued by an administrator, who has a second factor."""
    if not user.is_authenticated or user.is_application:
        return False
    if not (user.is_superuser or is_staff_member(user)):
        return False
    return not Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def has_capability(user: User, capability: Capability, *, facility: Facility | None = None) -> bool:
    """True when one of the user's active roles grants `capability`.

    With `facility`, a role scoped to another facility does not count; a role without a
    facility (town-wide) does."""
    for grant in active_roles(user):
        if capability not in ROLE_CAPABILITIES.get(grant.role, frozenset()):
            continue
        if facility is None or grant.facility_id is None or grant.facility_id == facility.pk:
            return True
    return False


def manages_staff_at(user: User, facility: Facility | None) -> bool:
    """Whether `user` manages the staff (and the applications) of `facility`: a town-wide
    administrator manages every facility, one scoped to a facility manages that one; town-wide
    scopes (`facility` None) need a town-wide administrator."""
    for grant in active_roles(user):
        if Capability.MANAGE_STAFF not in ROLE_CAPABILITIES.get(grant.role, frozenset()):
            continue
        if grant.facility_id is None or (facility is not None and grant.facility_id == facility.pk):
            return True
    return False


def headed_schools(user: User) -> list[Facility]:
    """The schools whose head `user` is. Only a grant scoped to the school counts: a head's
    role never reaches the town's other schools."""
    return [
        grant.facility
        for grant in active_roles(user)
        if Capability.READ_SCHOOL_LIST in ROLE_CAPABILITIES.get(grant.role, frozenset())
        and grant.facility is not None
        and grant.facility.kind == Facility.Kind.SCHOOL
    ]


def capabilities(user: User) -> set[Capability]:
    granted: set[Capability] = set()
    for grant in active_roles(user):
        granted |= ROLE_CAPABILITIES.get(grant.role, frozenset())
    return granted


def person_of(user: User) -> Person | None:
    if not user.is_authenticated:
        return None
    try:
        return user.person
    except Person.DoesNotExist:
        return None


def is_member_of(user: User, household: Household) -> bool:
    person = person_of(user)
    return person is not None and person.household_id == household.pk


def can_manage_household(user: User, household: Household) -> bool:
    """Adults of a household manage it together (members, address, family quotient)."""
    person = person_of(user)
    return (
        person is not None
        and person.household_id == household.pk
        and person.role == Person.Role.ADULT
    )


def can_act_for(user: User, person: Person) -> bool:
    """A resident acts for themself and for the children they are a guardian of (one query at
    most: the guardian is found by their login, not read first)."""
    if not user.is_authenticated:
        return False
    if person.user_id is not None and person.user_id == user.pk:
        return True
    return person.guardians.active().filter(guardian__user_id=user.pk).exists()


def can_handle_procedures(user: User, *, role: str) -> bool:
    """Staff handle a procedure type's files when they hold the type's handling role, and that
    role handles procedures (services.procedures.types.ProcedureType.handler_role)."""
    return any(
        grant.role == role
        and Capability.HANDLE_PROCEDURES in ROLE_CAPABILITIES.get(grant.role, frozenset())
        for grant in active_roles(user)
    )


# --- Residents' documents (documents_vault) ------------------------------------------------
# VIEW_RESIDENT_DOCUMENTS never opens the whole safe: a clerk reads a document through a file
# the resident shared it with, or after giving a reason (audited like opening a file).


def can_read_shared_document(user: User, *, capability: str, facility_id: int | None) -> bool:
    """Staff read a document shared with a file they handle: the share names the capability
    that handles the file (and its facility, when the file belongs to one)."""
    if capability not in set(Capability):
        return False
    facility = Facility(pk=facility_id) if facility_id is not None else None
    return has_capability(user, Capability(capability), facility=facility)


def can_read_documents_with_reason(user: User) -> bool:
    """A clerk may open a resident's documents outside any shared file, giving a reason."""
    return has_capability(user, Capability.VIEW_RESIDENT_DOCUMENTS)


def can_verify_documents(user: User) -> bool:
    """Verifying a proof changes the resident's file (residency, family quotient, members)."""
    return has_capability(user, Capability.VIEW_RESIDENT_DOCUMENTS) and has_capability(
        user, Capability.EDIT_RESIDENT_FILE
    )
