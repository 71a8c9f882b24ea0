"""What payments calls, by name, when an order line of a catalogue product is paid or refunded
(payments.fulfilment; payments never imports services). Registered by apps.ready."""

from . import actions, queries


def fulfil(line) -> None:
    actions.fulfil_product_sale(line)


def undo(line) -> None:
    actions.undo_product_sale(line)


def usage(line):
    """How many of the entries the line sold were used (books of entries only): the
    régisseur's refund page proposes the unused part."""
    from payments.fulfilment import Usage

    counted = queries.entries_used_of_sale(line.pk)
    return Usage(used=counted[0], total=counted[1]) if counted is not None else None


def register() -> None:
    from payments.fulfilment import register_fulfilment_handler

    register_fulfilment_handler(actions.SALE_HANDLER, fulfil=fulfil, undo=undo, usage=usage)
