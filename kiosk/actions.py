"""Every write of the kiosk app: agents' heartbeats and events, kiosk screen pairing, a
resident's session at a kiosk (a wallet top-up or a product bought, paid on the kiosk's card
terminal), its receipt printed or mailed, and the print jobs of the agents."""

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _

from card.models import Reader
from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, User
from identity.permissions import Capability, has_capability

from .models import DeviceStatus, KioskSession, PrintJob, ReaderEvent, ScreenPairing

logger = logging.getLogger(__name__)

PAIRING_VALIDITY = timedelta(minutes=15)
MAX_ERROR_LENGTH = 300
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")  # identity.models.new_public_id's alphabet


def _text(value: str, length: int) -> str:
    """A device's free text as a column keeps it: without NUL characters (PostgreSQL refuses
    them, a 500), cut to the column's length."""
    return value.replace("\x00", "")[:length]


def record_heartbeat(
    *,
    reader: Reader,
    agent_version: str,
    mode: str,
    reader_connected: bool,
    printer_status: str = "",
    last_error: str = "",
    queue_length: int = 0,
    snapshot_version: str = "",
    now: datetime | None = None,
) -> DeviceStatus:
    """An agent says how it is: one row per reader, overwritten (no history: the agent's own
    logs, collected by journald, keep that)."""
    if printer_status not in DeviceStatus.Printer.values:
        printer_status = DeviceStatus.Printer.UNKNOWN
    defaults = {
        "reported_at": now or timezone.now(),
        "agent_version": _text(agent_version, 32),
        "mode": _text(mode, 10),
        "reader_connected": reader_connected,
        "printer_status": printer_status,
        "last_error": _text(last_error, MAX_ERROR_LENGTH),
        "queue_length": max(0, queue_length),
        "snapshot_version": _text(snapshot_version, 64),
    }
    # update_or_create locks the row, and takes the one a concurrent first heartbeat created.
    status, _created = DeviceStatus.objects.update_or_create(reader=reader, defaults=defaults)
    return status


def record_reader_event(
    *, reader: Reader, kind: str, reader_time: datetime, now: datetime | None = None
) -> ReaderEvent:
    """A card left the reader, or a card that is not a Sésame card was presented."""
    if kind not in ReaderEvent.Kind.values:
        raise DomainError(_("Unknown kind of event."), field="event", code="invalid_event")
    return ReaderEvent.objects.create(
        reader=reader, kind=kind, reader_time=reader_time, received_at=now or timezone.now()
    )


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@transaction.atomic
def create_screen_pairing(
    *, actor: User, reader: Reader, now: datetime | None = None
) -> tuple[ScreenPairing, str]:
    """A one-time code to pair a kiosk screen with this kiosk reader (shown once, as a link;
    valid 15 minutes). Previous pairings of the reader stay valid until revoked."""
    if not has_capability(actor, Capability.MANAGE_TERRITORY):
        raise Forbidden(_("Your role does not allow this."))
    if reader.kind != Reader.Kind.KIOSK or reader.revoked_at is not None:
        raise DomainError(_("Only an active kiosk reader has a screen."), code="not_a_kiosk")
    now = now or timezone.now()
    code = secrets.token_urlsafe(24)
    pairing = ScreenPairing.objects.create(
        reader=reader,
        code_hash=_code_hash(code),
        created_by=actor,
        created_at=now,
        expires_at=now + PAIRING_VALIDITY,
    )
    record_audit_entry(
        actor=actor,
        action="kiosk.pairing_created",
        target=f"reader:{reader.public_id}",
        channel=AuditEntry.Channel.WEB,
    )
    return pairing, code


@transaction.atomic
def pair_screen(*, code: str, now: datetime | None = None) -> ScreenPairing:
    """The kiosk's browser opens the one-time link: the code is spent, the pairing starts."""
    now = now or timezone.now()
    pairing = (
        ScreenPairing.objects.select_for_update()
        .select_related("reader")
        .filter(code_hash=_code_hash(code or ""))
        .first()
    )
    if (
        pairing is None
        or pairing.paired_at is not None
        or pairing.revoked_at is not None
        or pairing.expires_at <= now
        or pairing.reader.revoked_at is not None
    ):
        raise DomainError(
            _("This pairing link is not valid any more: ask for a new one."),
            code="invalid_pairing",
        )
    pairing.paired_at = now
    pairing.save(update_fields=["paired_at"])
    record_audit_entry(
        actor=None,
        action="kiosk.screen_paired",
        target=f"reader:{pairing.reader.public_id}",
        channel=AuditEntry.Channel.SYSTEM,
    )
    return pairing


@transaction.atomic
def revoke_screen_pairings(*, actor: User, reader: Reader, now: datetime | None = None) -> int:
    """Every screen paired with this reader is shut out at its next request."""
    if not has_capability(actor, Capability.MANAGE_TERRITORY):
        raise Forbidden(_("Your role does not allow this."))
    revoked = ScreenPairing.objects.filter(reader=reader, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )
    record_audit_entry(
        actor=actor,
        action="kiosk.pairings_revoked",
        target=f"reader:{reader.public_id}",
        channel=AuditEntry.Channel.WEB,
    )
    return revoked


# --- A resident's session at a kiosk ----------------------------------------------------------
Step = KioskSession.Step


class SessionOver(DomainError):
    """The screen the resident pressed on is not the current one any more."""


def open_session(
    *,
    reader: Reader,
    tap_id: int,
    now: datetime | None = None,
    paired_at: datetime | None = None,
) -> KioskSession:
    """The session of the tap the screen shows (created at the resident's first press). A
    press on a screen that moved on (another tap, the session over), or on a tap made before
    the screen was paired (`paired_at`), is refused."""
    from . import queries

    now = now or timezone.now()
    current = queries.open_session(reader)
    if current is not None:
        if current.tap_id != tap_id or (
            paired_at is not None and current.tap.received_at < paired_at
        ):
            raise SessionOver(_("This screen is not current any more."), code="session_over")
        return current
    state = queries.screen_state(reader, now=now, paired_at=paired_at)
    if state.state != "tap" or state.tap_id != tap_id or state.holder_id is None:
        raise SessionOver(_("This screen is not current any more."), code="session_over")
    try:
        with transaction.atomic():
            return KioskSession.objects.create(
                reader=reader,
                tap_id=tap_id,
                holder_id=state.holder_id,
                started_at=now,
                last_activity_at=now,
            )
    except IntegrityError:  # a double press: the other request created it
        session = KioskSession.objects.get(tap_id=tap_id)
        if session.ended_at is not None:
            raise SessionOver(
                _("This screen is not current any more."), code="session_over"
            ) from None
        return session


def _locked(session: KioskSession) -> KioskSession:
    locked = (
        KioskSession.objects.select_for_update(of=("self",))
        .select_related("payment", "reader", "tap", "holder")
        .get(pk=session.pk)
    )
    if locked.ended_at is not None:
        raise SessionOver(_("This screen is not current any more."), code="session_over")
    return locked


@transaction.atomic
def choose(*, session: KioskSession, step: str, now: datetime | None = None) -> KioskSession:
    """The resident moves between the menu, the top-up amounts and the products (nothing is
    bought yet); each press counts as activity."""
    if step not in (Step.MENU, Step.TOPUP, Step.BUY):
        raise DomainError(_("Unknown choice."), code="invalid_step")
    session = _locked(session)
    if session.step in (Step.MENU, Step.TOPUP, Step.BUY):
        session.step = step
    session.last_activity_at = now or timezone.now()
    session.save(update_fields=["step", "last_activity_at"])
    return session


def _terminal_for(reader: Reader, provider) -> tuple[str, bool]:
    """The terminal to collect on, and whether it is the demo's simulated one."""
    from . import queries

    terminal_id = queries.terminal_of(reader)
    if provider.is_demo:
        return terminal_id or f"demo-{reader.public_id}", True
    if not terminal_id:
        raise DomainError(
            _("Card payment is not available at this kiosk."), code="no_payment_terminal"
        )
    return terminal_id, False


def pay(
    *,
    session: KioskSession,
    amount_cents: int | None = None,
    product_code: str | None = None,
    now: datetime | None = None,
) -> KioskSession:
    """Top up the holder's wallet by `amount_cents` (one of the kiosk's preset amounts), or buy
    the product `product_code` (priced by the catalogue for the holder on the day), and have
    the kiosk's card terminal collect it. One purchase per session: the order and the payment
    carry idempotency keys bound to the session, so a double press or a retried request finds
    them again and never charges twice."""
    from payments.actions.checkout import start_payment
    from payments.actions.wallets import create_topup_order
    from payments.models import Channel
    from payments.providers import ProviderError, online_provider
    from services.catalog.actions import buy_product

    from . import queries

    now = now or timezone.now()
    provider = online_provider()
    with transaction.atomic():
        session = _locked(session)
        if session.step not in (Step.MENU, Step.TOPUP, Step.BUY):
            return session  # already paying or paid: the same purchase, nothing new
        terminal_id, simulated = _terminal_for(session.reader, provider)
        order_key = f"kiosk:{session.public_id}:order"
        if product_code is not None:
            offers = {
                offer.product.code: offer
                for offer in queries.product_offers(session.reader, session.holder)
            }
            if product_code not in offers:  # never a lookup of whatever was posted
                raise DomainError(_("This product is not sold here."), code="not_sold_here")
            product = offers[product_code].product
            user = session.holder.user if session.holder.user_id else None
            if user is None:
                raise DomainError(
                    _("Buying here needs a Sésame account: please ask at the reception desk."),
                    code="no_account",
                )
            sale = buy_product(
                actor=user,
                person=session.holder,
                product=product,
                channel=Channel.KIOSK,
                idempotency_key=order_key,
            )
            if sale.order is None:
                raise DomainError(_("This product is free: nothing to pay."), code="free")
            session.purchase = KioskSession.Purchase.PRODUCT
            session.product = product
            session.explanation = (sale.price.explanation if sale.price else "")[:200]
            order = sale.order
        else:
            if amount_cents not in queries.TOPUP_AMOUNTS:
                raise DomainError(_("Choose one of the amounts shown."), code="invalid_amount")
            order = create_topup_order(
                actor=None,
                person=session.holder,
                amount_cents=amount_cents,
                channel=Channel.KIOSK,
                idempotency_key=order_key,
            )
            session.purchase = KioskSession.Purchase.TOPUP
        session.amount_cents = order.total_cents
        session.order = order
        session.step = Step.PAYING
        session.terminal_id = terminal_id
        session.simulated_terminal = simulated
        session.last_activity_at = now
        session.save()
    # The provider is called outside any transaction (it may be slow); it is idempotent.
    try:
        payment, _started = start_payment(
            order=order,
            return_url="",
            provider=provider.code,
            idempotency_key=f"kiosk:{session.public_id}:payment",
            terminal_id=terminal_id,
        )
    except (ProviderError, DomainError) as error:
        logger.warning("kiosk payment not started session=%s: %s", session.pk, error)
        _fail(session, outcome="terminal_unavailable", now=now)
        session.refresh_from_db()
        return session
    KioskSession.objects.filter(pk=session.pk, payment__isnull=True).update(payment=payment)
    session.refresh_from_db()
    return session


def _fail(session: KioskSession, *, outcome: str, now: datetime | None = None) -> None:
    """The payment did not happen: its order is cancelled (nothing will be credited), the
    screen says why for a few seconds, then goes home."""
    from payments.actions.orders import cancel_order
    from payments.models import Order

    with transaction.atomic():
        locked = KioskSession.objects.select_for_update().get(pk=session.pk)
        if locked.step not in (Step.PAYING, Step.FAILED) or locked.ended_at is not None:
            return
        locked.step = Step.FAILED
        locked.outcome = outcome[:30]
        locked.last_activity_at = now or timezone.now()
        locked.save(update_fields=["step", "outcome", "last_activity_at"])
        order = locked.order
    if order is not None and order.status == Order.Status.PENDING:
        try:
            cancel_order(actor=None, order=order)
        except DomainError:  # paid meanwhile (a late success): the ledger has it
            logger.info("kiosk order=%s not cancelled: no longer pending", order.pk)


def demo_terminal(*, session: KioskSession, approve: bool) -> KioskSession:
    """The demo's simulated card terminal: the resident's "approve" or "decline" stands in for
    a card presented to a real reader; it is recorded exactly as a provider's webhook would."""
    from payments.actions.provider_events import record_payment_failed, record_payment_succeeded
    from payments.providers import online_provider

    session = KioskSession.objects.select_related("payment").get(pk=session.pk)
    payment = session.payment
    if (
        session.step != Step.PAYING
        or not session.simulated_terminal
        or payment is None
        or payment.provider != "demo"
        or not online_provider().is_demo
    ):
        raise DomainError(_("There is no simulated payment to answer."), code="not_simulated")
    if approve:
        record_payment_succeeded(
            provider="demo",
            provider_reference=payment.provider_reference,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            event_id=f"demo_evt_{payment.public_id}_succeeded",
        )
    else:
        record_payment_failed(
            provider="demo",
            provider_reference=payment.provider_reference,
            reason=_("Card declined (demo)"),
            event_id=f"demo_evt_{payment.public_id}_failed",
        )
    return tick(session=session)


def cancel_payment(*, session: KioskSession, now: datetime | None = None) -> KioskSession:
    """The resident pressed "Cancel" while the terminal waited for their card: the terminal
    is stopped, the payment recorded as abandoned, the order cancelled; nothing is credited.
    (A card the terminal had already charged still comes back through the webhook and is
    credited: money taken is never lost.)"""
    from payments.actions.provider_events import record_payment_cancelled
    from payments.models import Payment
    from payments.providers import ProviderError, get_provider

    session = KioskSession.objects.select_related("payment").get(pk=session.pk)
    if session.step != Step.PAYING:
        return session
    payment = session.payment
    if payment is not None:
        try:
            get_provider(payment.provider).cancel_terminal(terminal_id=session.terminal_id)
        except ProviderError as error:
            logger.warning("terminal not cancelled session=%s: %s", session.pk, error)
        if payment.provider_reference:
            record_payment_cancelled(
                provider=payment.provider, provider_reference=payment.provider_reference
            )
        if Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED:
            # Charged just before the cancel: the money is there, the screen says paid.
            return tick(session=session, now=now)
    _fail(session, outcome="cancelled", now=now)
    session.refresh_from_db()
    return session


def end_session(*, session: KioskSession, reason: str, now: datetime | None = None) -> None:
    KioskSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
        ended_at=now or timezone.now(),
        step=Step.ENDED,
        outcome=Coalesce(NullIf(F("outcome"), Value("")), Value(reason[:30])),
    )


def tick(*, session: KioskSession, now: datetime | None = None) -> KioskSession:
    """Bring an open session up to date (called by the screen's poll): the payment's outcome
    shown, the session ended after 30 s untouched or when the card is removed — but never
    while the terminal collects (then only its outcome, a cancel or PAYMENT_WAIT end it)."""
    from . import queries

    now = now or timezone.now()
    session = KioskSession.objects.select_related("payment", "reader", "tap").get(pk=session.pk)
    if session.ended_at is not None:
        return session
    due = queries.session_due(session, now=now)
    if due == "paid":
        KioskSession.objects.filter(pk=session.pk, step=Step.PAYING).update(
            step=Step.PAID, last_activity_at=now
        )
    elif due == "failed":
        status = session.payment.status
        _fail(session, outcome="declined" if status == "failed" else "cancelled", now=now)
    elif due == "payment_timeout":
        cancel_payment(session=session, now=now)
        KioskSession.objects.filter(pk=session.pk, step=Step.FAILED).update(outcome="timeout")
    elif due:
        end_session(session=session, reason=due, now=now)
    session.refresh_from_db()
    return session


def _paid_session(session: KioskSession) -> KioskSession:
    session = KioskSession.objects.select_related("payment", "holder__user").get(pk=session.pk)
    if session.ended_at is not None or session.step != Step.PAID:
        raise SessionOver(_("This screen is not current any more."), code="session_over")
    return session


def print_receipt(*, session: KioskSession, now: datetime | None = None) -> PrintJob:
    """Queue the receipt of the session's payment for the kiosk's printer (once: a double
    press prints it once; a failed print may be asked again)."""
    from payments.models import Document

    from . import queries

    now = now or timezone.now()
    session = _paid_session(session)
    if not queries.printer_ready(session.reader):
        raise DomainError(_("The printer of this kiosk is not available."), code="no_printer")
    document = (
        Document.objects.filter(payment=session.payment, kind=Document.Kind.RECEIPT)
        .order_by("pk")
        .first()
    )
    if document is None:
        raise DomainError(_("The receipt is not ready yet."), code="no_receipt")
    with transaction.atomic():
        job, created = PrintJob.objects.select_for_update().get_or_create(
            reader=session.reader, document=document, defaults={"created_at": now}
        )
        if not created and job.status == PrintJob.Status.FAILED:
            job.status = PrintJob.Status.PENDING
            job.error = ""
            job.save(update_fields=["status", "error"])
        KioskSession.objects.filter(pk=session.pk).update(last_activity_at=now)
    return job


def email_receipt(*, session: KioskSession, now: datetime | None = None) -> KioskSession:
    """Mail the receipt to the address of the holder's account (never one typed or shown at
    the kiosk); once per session."""
    from payments.tasks import send_receipt_email_task

    now = now or timezone.now()
    session = _paid_session(session)
    user = session.holder.user if session.holder.user_id else None
    if user is None or not user.email:
        raise DomainError(
            _("There is no email address on your account: the receipt is in Mon espace."),
            code="no_email",
        )
    with transaction.atomic():
        updated = KioskSession.objects.filter(
            pk=session.pk, receipt_emailed_at__isnull=True
        ).update(receipt_emailed_at=now, last_activity_at=now)
        if updated:
            payment_id = session.payment_id
            transaction.on_commit(lambda: send_receipt_email_task.enqueue(payment_id=payment_id))
    session.refresh_from_db()
    return session


# --- Print jobs (the agent beside the printer) ------------------------------------------------
def take_print_jobs(*, reader: Reader, now: datetime | None = None) -> list[PrintJob]:
    """The pending print jobs of this kiosk, marked fetched (they stay pending until the agent
    says how printing went, so a job lost on the way is fetched again)."""
    from . import queries

    jobs = queries.pending_print_jobs(reader)
    if jobs:
        PrintJob.objects.filter(pk__in=[job.pk for job in jobs]).update(
            fetched_at=now or timezone.now()
        )
    return jobs


def finish_print_job(
    *, reader: Reader, job_id: str, ok: bool, error: str = "", now: datetime | None = None
) -> PrintJob:
    from identity.errors import NotFound

    with transaction.atomic():
        job = (
            PrintJob.objects.select_for_update().filter(reader=reader, public_id=job_id).first()
            if _PUBLIC_ID.fullmatch(job_id)  # garbage (a NUL) is not even looked up
            else None
        )
        if job is None:
            raise NotFound(_("Unknown print job."), code="unknown_print_job")
        if job.status == PrintJob.Status.PENDING:
            job.status = PrintJob.Status.DONE if ok else PrintJob.Status.FAILED
            job.error = "" if ok else _text(error, MAX_ERROR_LENGTH)
            job.done_at = now or timezone.now()
            job.save(update_fields=["status", "error", "done_at"])
    return job
