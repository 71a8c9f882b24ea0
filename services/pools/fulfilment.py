"""What payments calls, by name, when the order line of a swimming-lesson place is paid or
refunded (payments.fulfilment; payments never imports services). Registered by apps.ready."""

from . import actions

HANDLER = "pools.lesson"


def line_ref(line) -> str:
    return f"payments.line:{line.pk}"


def fulfil(line) -> None:
    """Paid: the held place is confirmed and the booking entitlements granted (exactly once:
    confirming a confirmed booking changes nothing)."""
    actions.confirm_booking(booking_id=line.payload["booking"], order_ref=line_ref(line))


def undo(line) -> None:
    """Refunded: the place is released and its booking entitlements revoked."""
    actions.release_booking(booking_id=line.payload["booking"], reason="refund")


def register() -> None:
    from payments.fulfilment import register_fulfilment_handler

    register_fulfilment_handler(HANDLER, fulfil=fulfil, undo=undo)
