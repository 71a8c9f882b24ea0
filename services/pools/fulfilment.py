"""What payments calls, by name, when the order line of a swimming-lesson place is paid,
refunded or cancelled unpaid (payments.fulfilment; payments never imports services).
Registered by apps.ready."""

from identity.errors import Conflict
from payments.fulfilment import CannotFulfil, register_fulfilment_handler

from . import actions

HANDLER = "pools.lesson"
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


def register() -> None:
    register_fulfilment_handler(HANDLER, fulfil=fulfil, undo=undo, on_cancel=on_cancel)
