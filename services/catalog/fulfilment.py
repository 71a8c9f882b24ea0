"""What payments calls, by name, when an order line of a catalogue product is paid or refunded
(payments.fulfilment; payments never imports services). Registered by apps.ready."""

from . import actions


def fulfil(line) -> None:
    actions.fulfil_product_sale(line)


def undo(line) -> None:
    actions.undo_product_sale(line)


def register() -> None:
    from payments.fulfilment import register_fulfilment_handler

    register_fulfilment_handler(actions.SALE_HANDLER, fulfil=fulfil, undo=undo)
