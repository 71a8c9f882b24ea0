"""What payments calls, by name, when the order line of a swimming-lesson place is paid,
refunded or cancelled unpaid (payments.fulfilment; payments never imports services).
Registered by apps.ready."""

from django.utils import timezone
from django.utils.translation import gettext as _

from identity.errors import Conflict
from payments.fulfilment import CannotFulfil, register_fulfilment_handler

from . import actions
from .models import LessonBooking

HANDLER = actions.LESSON_HANDLER
# confirm_booking's refusals that no retry can change: the place went to someone else while
# the payment was late, or the person has another place in the course.
UNDELIVERABLE = frozenset({"full", "already_booked"})


def line_ref(line) -> str:
    return f"payments.line:{line.pk}"


def fulfil(line) -> None:
    """Paid: the held place is confirmed and the booking entitlements granted (exactly once:
    confirming a confirmed booking changes nothing). A hold that expired and whose place was
    taken meanwhile can never be confirmed: `CannotFulfil`, and payments refunds the line."""
    try:
        actions.confirm_booking(booking_id=line.payload["booking"], order_ref=line_ref(line))
    except Conflict as refused:
        if refused.code in UNDELIVERABLE:
            raise CannotFulfil(refused.code) from refused
        raise


def undo(line) -> None:
    """Refunded: the place is released and its booking entitlements revoked."""
    actions.release_booking(booking_id=line.payload["booking"], reason="refund")


def on_cancel(line) -> None:
    """The order was cancelled before it was paid: the held place is free again at once."""
    actions.release_booking(
        booking_id=line.payload["booking"], reason="order cancelled", held_only=True
    )


def check(line) -> str | None:
    """While the line waits to be paid: a word for the resident when its place is no longer
    held (the hold expired, or the place was released), else None. Reads only."""
    booking = LessonBooking.objects.filter(public_id=line.payload.get("booking", "")).first()
    if booking is None or booking.status == LessonBooking.Status.CONFIRMED:
        return None
    if booking.status == LessonBooking.Status.HELD and booking.held_until > timezone.now():
        return None
    if booking.status == LessonBooking.Status.RELEASED:
        return _("This place is no longer held for you. Remove this line.")
    return _(
        "The place held for you expired at %(time)s. If you pay, the place is yours only if "
        "one is still free; otherwise this line is refunded. You can remove it."
    ) % {"time": timezone.localtime(booking.held_until).strftime("%H:%M")}


def register() -> None:
    register_fulfilment_handler(HANDLER, fulfil=fulfil, undo=undo, on_cancel=on_cancel, check=check)
