"""Reads of the document safe shared by its pages, its API and the use cases."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from identity.models import AccessReason, Household, Person, User
from identity.permissions import can_manage_household, person_of
from identity.vocabulary import staff_label

from .models import (
    KINDS_VERIFIED_BY_STAFF,
    VERIFICATION_TARGET,
    Document,
    DocumentEvent,
    DocumentVersion,
    Share,
)

EXPIRY_NOTICE_DAYS = 30  # the reminder and the "expires soon" tag

Verification = DocumentVersion.Verification
State = DocumentVersion.State


def _live_versions() -> Prefetch:
    return Prefetch(
        "versions",
        queryset=DocumentVersion.objects.exclude(state=State.SHREDDED).order_by("-number"),
        to_attr="live_versions",
    )


def may_see(user: User, document: Document) -> bool:
    """Adults of the household see all its documents; a member with a login of their own (a
    teenager) sees their own."""
    if document.is_deleted:
        return False
    person = person_of(user)
    if person is None or person.household_id != document.household_id:
        return False
    return person.pk == document.person_id or can_manage_household(user, document.household)


def may_file_for(user: User, person: Person) -> bool:
    """Who may add a document for a member: the household's adults, or the member themself."""
    own = person_of(user)
    if own is None or own.household_id != person.household_id:
        return False
    return own.pk == person.pk or can_manage_household(user, person.household)


def documents_visible_to(user: User) -> QuerySet[Document]:
    person = person_of(user)
    if person is None:
        return Document.objects.none()
    documents = Document.objects.filter(household_id=person.household_id, deleted_at__isnull=True)
    if not can_manage_household(user, person.household):
        documents = documents.filter(person=person)
    return documents.select_related("person").prefetch_related(_live_versions())


def document_for(user: User, public_id: str) -> Document | None:
    """The document of this id if `user` may see it as a resident, else None (the caller
    answers 404 and logs the refusal)."""
    return documents_visible_to(user).filter(public_id=public_id).first()


def document_of_public_id(public_id: str) -> Document | None:
    return (
        Document.objects.select_related("person", "household")
        .prefetch_related(_live_versions())
        .filter(public_id=public_id)
        .first()
    )


def documents_by_public_id(public_ids) -> dict[str, Document]:
    """Documents by their public ids (deleted ones too: a timeline still names them), for a
    page that lists documents joined to a file; whether a reader may open each is the access
    actions' decision."""
    documents = Document.objects.select_related("person").filter(public_id__in=list(public_ids))
    return {document.public_id: document for document in documents}


def current_version(document: Document) -> DocumentVersion | None:
    versions = getattr(document, "live_versions", None)
    if versions is None:
        versions = list(document.versions.exclude(state=State.SHREDDED))
    return next((v for v in versions if v.state == State.CURRENT), None)


def pending_version(document: Document) -> DocumentVersion | None:
    versions = getattr(document, "live_versions", None)
    if versions is None:
        versions = list(document.versions.exclude(state=State.SHREDDED))
    return next((v for v in versions if v.state == State.PENDING), None)


def version_under_verification(document: Document) -> DocumentVersion | None:
    """The version a clerk is asked to check: a replacement waiting for them, else the
    current version if it waits."""
    pending = pending_version(document)
    if pending is not None:
        return pending
    current = current_version(document)
    if current is not None and current.verification == Verification.PENDING:
        return current
    return None


def household_fingerprint_owner(household: Household, fingerprint: str) -> Document | None:
    """The household's live document already holding a file with this fingerprint."""
    version = (
        DocumentVersion.objects.select_related("document__person")
        .filter(
            document__household=household,
            document__deleted_at__isnull=True,
            fingerprint=fingerprint,
        )
        .exclude(state=State.SHREDDED)
        .first()
    )
    return version.document if version is not None else None


@dataclass(frozen=True)
class DocumentRow:
    """A document as Mes documents lists it."""

    document: Document
    current: DocumentVersion | None
    pending: DocumentVersion | None
    expired: bool
    expires_soon: bool
    open_shares: list[Share] = field(default_factory=list)

    @property
    def verification(self) -> str:
        if self.pending is not None:
            return Verification.PENDING
        return self.current.verification if self.current else Verification.NOT_REQUESTED

    @property
    def rejection_reason(self) -> str:
        return self.current.rejection_reason if self.current else ""


def rows_for(documents, *, today: date | None = None) -> list[DocumentRow]:
    today = today or timezone.localdate()
    documents = list(documents)
    shares: dict[int, list[Share]] = {}
    for share in Share.objects.filter(document__in=documents, closed_at__isnull=True).exclude(
        target_kind=VERIFICATION_TARGET
    ):
        shares.setdefault(share.document_id, []).append(share)
    rows = []
    for document in documents:
        expires = document.expires_on
        rows.append(
            DocumentRow(
                document=document,
                current=current_version(document),
                pending=pending_version(document),
                expired=expires is not None and expires < today,
                expires_soon=expires is not None
                and today <= expires <= today + timedelta(days=EXPIRY_NOTICE_DAYS),
                open_shares=shares.get(document.pk, []),
            )
        )
    return rows


def shares_of(document: Document) -> list[Share]:
    return list(document.shares.select_related("facility").order_by("-opened_at", "-pk"))


@dataclass(frozen=True)
class EventRow:
    event: DocumentEvent
    who: str  # "Town-hall clerk — Paul" for staff, the first name for a member

    @property
    def why(self) -> str:
        """The reason a clerk gave (in the reader's language when it is a coded one), or a
        rejection's reason."""
        reason = self.event.reason
        return str(AccessReason(reason).label) if reason in AccessReason.values else reason


def events_of(document: Document) -> list[EventRow]:
    """The document's log as its owner reads it: who (role and first name), when, for which
    file (the share's label), why."""
    rows = []
    events = document.events.select_related("actor__person", "share").order_by("-at", "-pk")
    for event in events:
        if event.actor_role:
            who = staff_label(event)
        elif event.actor is not None:
            person = getattr(event.actor, "person", None)
            who = person.first_name if person is not None else event.actor.first_name
        else:
            who = ""
        rows.append(EventRow(event=event, who=who))
    return rows


def verification_queue() -> QuerySet[DocumentVersion]:
    """Versions waiting for a clerk, oldest first (the order residents sent them)."""
    return (
        DocumentVersion.objects.filter(
            verification=Verification.PENDING,
            document__deleted_at__isnull=True,
            document__kind__in=KINDS_VERIFIED_BY_STAFF,
        )
        .exclude(state=State.SHREDDED)
        .select_related("document__person", "document__household")
        .order_by("uploaded_at", "pk")
    )


def open_verification_share(document: Document) -> Share | None:
    return document.shares.filter(target_kind=VERIFICATION_TARGET, closed_at__isnull=True).first()


def open_shares_for_file(target_kind: str, target_id: str) -> QuerySet[Share]:
    """The documents shared with one file (what its staff may read now)."""
    return Share.objects.filter(
        target_kind=target_kind, target_id=target_id, closed_at__isnull=True
    ).select_related("document__person")


def documents_for_picker(user: User, person: Person, kinds) -> list[Document]:
    """What a resident may pick for a member from their safe: live documents of one of the
    `kinds`, for that member, not expired."""
    today = timezone.localdate()
    return list(
        documents_visible_to(user)
        .filter(person=person, kind__in=list(kinds))
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .order_by("-created_at")
    )


def household_documents_for_staff(household: Household) -> list[DocumentRow]:
    documents = (
        Document.objects.filter(household=household, deleted_at__isnull=True)
        .select_related("person")
        .prefetch_related(_live_versions())
        .order_by("person__birth_date", "kind", "-created_at")
    )
    return rows_for(documents)


def panel_summary(user: User) -> dict:
    rows = rows_for(documents_visible_to(user))
    return {
        "count": len(rows),
        "expired": sum(1 for row in rows if row.expired),
        "expiring": sum(1 for row in rows if row.expires_soon),
        "waiting": sum(1 for row in rows if row.verification == Verification.PENDING),
        "rejected": sum(1 for row in rows if row.verification == Verification.REJECTED),
    }


def household_emails(household: Household) -> list[str]:
    """Where the safe writes to a household: its adults' logins."""
    return list(
        User.objects.filter(
            person__household=household, person__role=Person.Role.ADULT, is_active=True
        )
        .order_by("pk")
        .values_list("email", flat=True)
    )
