"""A card's life: requested with a photo (or a phone pass issued at once), reviewed, produced,
handed over, suspended and reactivated, replaced, revoked, expired."""

import re
from datetime import date

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents_vault import queries as vault_queries
from documents_vault.actions.access import read_shared_document
from documents_vault.actions.picking import attach_document
from documents_vault.actions.sharing import FileRef, close_file_shares
from documents_vault.inspection import JPEG, PNG
from documents_vault.models import DocumentKind
from identity.errors import Conflict, DomainError, Forbidden, NotFound
from identity.images import ImageRules, checked_image
from identity.models import Person, User
from identity.permissions import Capability

from ..models import Card
from .guards import (
    audit_card,
    locked_card,
    require_capability,
    require_holder_or_staff,
    require_status,
)
from .numbers import new_card_number

Status = Card.Status

CARD_VALIDITY_YEARS = 6


PHOTO_RULES = ImageRules(max_bytes=5 * 1024 * 1024)


# The card request's file, as the document safe's shares name it.
CARD_REQUEST = "card_request"


def check_photo(photo: File, *, field: str = "photo") -> ContentFile:
    """An identity photo: a real JPEG or PNG image of at most 5 MB and 6000 × 6000 pixels
    (judged from its header, before decoding), kept as a JPEG of at most 1200 pixels without
    the camera's metadata (identity.images)."""
    return checked_image(photo, field=field, rules=PHOTO_RULES)


def _live_card_exists(holder: Person, kind: str) -> bool:
    return Card.objects.filter(holder=holder, kind=kind, status__in=Card.LIVE_STATUSES).exists()


@transaction.atomic
def request_card(
    *,
    actor: User,
    holder: Person,
    document_id: str | None = None,
    file_name: str = "",
    content: bytes | None = None,
) -> Card:
    """A resident asks for a physical card, for themself or a child, with a photo picked from
    the holder's documents (`document_id`) or a new one (`file_name`, `content`) that goes
    into them; either way the photo is shared with the request until a clerk decides, and
    the card keeps its own copy only once validated (`review_card_request`)."""
    by_staff = require_holder_or_staff(actor, holder)
    if content is not None:
        # The card's own rules (JPEG or PNG, 5 MB, 6000 × 6000), judged before the safe
        # keeps anything and before the holder's row is locked.
        check_photo(ContentFile(content), field="file")
    Person.objects.select_for_update().filter(pk=holder.pk).first()
    if _live_card_exists(holder, Card.Kind.NFC):
        raise Conflict(_("%(name)s already has a card.") % {"name": holder.first_name})
    card = Card(
        number=new_card_number(),
        holder=holder,
        kind=Card.Kind.NFC,
        status=Status.REQUESTED,
        requested_by=actor,
    )
    share = attach_document(
        actor=actor,
        person=holder,
        kinds=[DocumentKind.PHOTO],
        target=FileRef(
            kind=CARD_REQUEST,
            id=card.public_id,
            label=_("Card request for %(name)s") % {"name": holder.first_name},
            capability=Capability.EDIT_RESIDENT_FILE,
        ),
        document_id=document_id,
        file_name=file_name,
        content=content,
    )
    version = vault_queries.current_version(share.document)
    if version is None or version.content_type not in (JPEG, PNG):
        # A scan kept as a PDF is no identity photo (the transaction drops the share).
        raise DomainError(_("The photo must be a JPEG or PNG image."), field="document")
    card.photo_share_id = share.public_id
    card.save()
    audit_card(actor, card, "requested", by_staff=by_staff)
    return card


@transaction.atomic
def issue_phone_pass(*, actor: User, holder: Person) -> Card:
    """A phone pass works at once: nothing to print or encode."""
    by_staff = require_holder_or_staff(actor, holder)
    Person.objects.select_for_update().filter(pk=holder.pk).first()
    if _live_card_exists(holder, Card.Kind.PHONE):
        raise Conflict(_("%(name)s already has a phone pass.") % {"name": holder.first_name})
    now = timezone.now()
    card = Card.objects.create(
        number=new_card_number(),
        holder=holder,
        kind=Card.Kind.PHONE,
        status=Status.ACTIVE,
        requested_by=actor,
        activated_at=now,
    )
    audit_card(actor, card, "phone_pass_issued", by_staff=by_staff)
    return card


def review_card_request(*, actor: User, card: Card, approve: bool, reason: str = "") -> Card:
    """A clerk checks the photo and the holder, then validates or rejects the request. On
    validation the photo is read from the safe once, through the request's share, into the
    card's own photo (the desk and the card face show it for the card's life); either way
    the request's shares close, and staff read the resident's document no more."""
    require_capability(actor, Capability.EDIT_RESIDENT_FILE)
    require_status(card, {Status.REQUESTED})
    if not approve and not reason.strip():
        raise DomainError(_("Say why the request is rejected."), field="reason")
    # Read outside the transaction, as the safe wants (an integrity failure's report is kept).
    kept = _photo_from_safe(actor, card) if approve and card.photo_share_id else None
    with transaction.atomic():
        card = locked_card(card)
        require_status(card, {Status.REQUESTED})
        card.status = Status.VALIDATED if approve else Status.REJECTED
        card.validated_at = timezone.now()
        if not approve:
            card.ended_at = card.validated_at
        if kept is not None:
            card.photo.save(f"{card.public_id}.jpg", kept, save=False)
        card.save(update_fields=["status", "validated_at", "ended_at", "photo"])
        close_file_shares(target_kind=CARD_REQUEST, target_id=card.public_id, actor=actor)
        audit_card(
            actor, card, "validated" if approve else "rejected", by_staff=True, reason=reason
        )
    return card


def _photo_from_safe(actor: User, card: Card) -> ContentFile:
    try:
        original = read_shared_document(actor=actor, share_public_id=card.photo_share_id)
    except NotFound as error:
        raise Conflict(
            _("The photo is no longer shared with this request: reject it."), field="decision"
        ) from error
    return check_photo(ContentFile(original.content), field="decision")


_UID = re.compile(r"^[0-9A-F]{14}$")


@transaction.atomic
def produce_card(*, actor: User, card: Card, uid: str) -> Card:
    """The encoding station has read the blank chip's UID and written the keys derived from it;
    the card is printed and waits to be handed over."""
    require_capability(actor, Capability.EDIT_RESIDENT_FILE)
    uid = uid.strip().upper().replace(":", "")
    if not _UID.match(uid):
        raise DomainError(_("A chip UID is 7 bytes in hexadecimal (14 characters)."), field="uid")
    card = locked_card(card)
    require_status(card, {Status.VALIDATED})
    if Card.objects.filter(uid=uid).exists():
        raise Conflict(_("This chip is already used by another card."), field="uid")
    card.uid = uid
    card.status = Status.PRODUCED
    card.produced_at = timezone.now()
    card.expires_on = _years_later(timezone.localdate(), CARD_VALIDITY_YEARS)
    card.save(update_fields=["uid", "status", "produced_at", "expires_on"])
    audit_card(actor, card, "produced", by_staff=True)
    return card


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def activate_card(*, actor: User, card: Card) -> Card:
    """Handed over at the counter: from now on the card opens gates."""
    require_capability(actor, Capability.EDIT_RESIDENT_FILE)
    card = locked_card(card)
    require_status(card, {Status.PRODUCED})
    card.status = Status.ACTIVE
    card.activated_at = timezone.now()
    card.save(update_fields=["status", "activated_at"])
    audit_card(actor, card, "activated", by_staff=True)
    return card


SUSPENSION_REASONS = {"lost", "stolen", "damaged", "staff"}


@transaction.atomic
def suspend_card(*, actor: User, card: Card, reason: str) -> Card:
    """Lost or stolen: one click by the holder (or a guardian), or by staff. Refused at every
    gate from the next tap on."""
    by_staff = require_holder_or_staff(actor, card.holder)
    if reason not in SUSPENSION_REASONS:
        raise DomainError(_("Choose a reason."), field="reason")
    card = locked_card(card)
    require_status(card, {Status.ACTIVE, Status.PRODUCED})
    card.status = Status.SUSPENDED
    card.suspended_at = timezone.now()
    card.suspension_reason = reason
    card.save(update_fields=["status", "suspended_at", "suspension_reason"])
    audit_card(actor, card, "suspended", by_staff=by_staff, reason=reason)
    return card


@transaction.atomic
def reactivate_card(*, actor: User, card: Card) -> Card:
    """A lost card found again. A stolen card stays suspended unless staff decide otherwise."""
    by_staff = require_holder_or_staff(actor, card.holder)
    card = locked_card(card)
    require_status(card, {Status.SUSPENDED})
    if card.suspension_reason in {"stolen", "staff"} and not by_staff:
        raise Forbidden(_("A stolen or blocked card can only be reactivated at the town hall."))
    card.status = Status.ACTIVE
    card.suspended_at = None
    card.suspension_reason = ""
    card.save(update_fields=["status", "suspended_at", "suspension_reason"])
    audit_card(actor, card, "reactivated", by_staff=by_staff)
    return card


@transaction.atomic
def replace_card(*, actor: User, card: Card) -> Card:
    """The old card is refused everywhere at once; a new one, already validated, goes to
    production. Entitlements and balances belong to the holder, so the new card has them all."""
    by_staff = require_holder_or_staff(actor, card.holder)
    card = locked_card(card)
    require_status(card, {Status.ACTIVE, Status.SUSPENDED, Status.PRODUCED})
    card.status = Status.REPLACED
    card.ended_at = timezone.now()
    card.save(update_fields=["status", "ended_at"])
    new = Card(
        number=new_card_number(),
        holder=card.holder,
        kind=card.kind,
        replaces=card,
        requested_by=actor,
        validated_at=timezone.now(),
        status=Status.VALIDATED if card.kind == Card.Kind.NFC else Status.ACTIVE,
    )
    if card.kind == Card.Kind.PHONE:
        new.activated_at = new.validated_at
    if card.photo:
        new.photo.name = card.photo.name  # same identity photo; a new one can be asked later
    new.save()
    audit_card(actor, card, "replaced", by_staff=by_staff, reason=new.number)
    return new


@transaction.atomic
def revoke_card(*, actor: User, card: Card, reason: str) -> Card:
    require_capability(actor, Capability.EDIT_RESIDENT_FILE)
    if not reason.strip():
        raise DomainError(_("Say why the card is revoked."), field="reason")
    card = locked_card(card)
    require_status(card, set(Card.LIVE_STATUSES))
    card.status = Status.REVOKED
    card.ended_at = timezone.now()
    card.save(update_fields=["status", "ended_at"])
    audit_card(actor, card, "revoked", by_staff=True, reason=reason)
    return card


def expire_cards(*, today: date | None = None) -> int:
    """Nightly: cards past their date become expired (the gate already refuses them)."""
    day = today or timezone.localdate()
    expired = 0
    for card in Card.objects.filter(status=Status.ACTIVE, expires_on__lt=day).select_related(
        "holder"
    ):
        with transaction.atomic():
            updated = Card.objects.filter(pk=card.pk, status=Status.ACTIVE).update(
                status=Status.EXPIRED, ended_at=timezone.now()
            )
            if updated:
                expired += 1
                audit_card(None, card, "expired", by_staff=False)
    return expired
