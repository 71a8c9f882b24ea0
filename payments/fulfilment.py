"""Fulfilment handlers: what a paid order line does, registered by name by the service that
sells it (payments never imports services).

A service registers its handlers when its app is ready::

    from payments.fulfilment import register_fulfilment_handler

    class PoolConfig(AppConfig):
        def ready(self):
            register_fulfilment_handler(
                "pool.entry_book", fulfil=grant_book, undo=revoke_book, on_cancel=release_hold
            )

`fulfil(line)` and `undo(line)` receive the `OrderLine` (its `payload`, `beneficiary`,
`quantity`), run inside the database transaction that marks the line fulfilled or undone (with
the line row locked): write what they grant with the ORM and it commits with the mark, or
raise and both roll back (the line is retried later). Each runs exactly once per line: fulfil
when the order is paid, undo when the line is refunded after having been fulfilled.

A `fulfil` that knows it will never be able to deliver (the place it held went to someone
else) raises `CannotFulfil(reason)` instead: its writes roll back, the line is marked
undeliverable, never retried, refunded automatically (to the card through the provider, else
to the payer's wallet; exactly once, with a credit note) and the payer is told by email. Any
other exception means "not now": the line is retried.

`on_cancel(line)` (optional) is called for each line of an order cancelled before it was paid
(`payments.actions.orders.cancel_order`), inside the cancellation's transaction (in a savepoint
of its own: a failing hook is logged and does not stop the cancellation): release at once what
the line held (a place) rather than waiting for the hold to expire. It is also called when the
resident removes the line from their basket (`payments.actions.basket.remove_from_basket`).

`check(line)` (optional) reads, never writes: called while the line waits in an unpaid order,
it returns a short message for the resident when the line can no longer be delivered as it
stands (its place hold expired: paid late, it is confirmed only if a place is still free, else
refunded), or None when all is well. The basket page shows it beside the line.

`usage(line)` (optional) reads, never writes: for a paid line of countable entries (a book of
ten pool entries), a `Usage` saying how many of them were already used, or None when nothing
is countable. The régisseur's refund page warns with it and proposes the unused part
(`payments.queries.line_usage`)."""

from collections.abc import Callable
from dataclasses import dataclass

WALLET_TOPUP = "payments.wallet_topup"


class CannotFulfil(Exception):
    """Raised by a `fulfil` handler that can never deliver its line. `reason` is a short code
    (logged, stored on the line: no personal data), e.g. "full"."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason
        self.message = message


def undeliverable_refund_key(line_id: int) -> str:
    """The idempotency key of the automatic refund of an undeliverable line: one per line."""
    return f"undeliverable-line:{line_id}"


@dataclass(frozen=True)
class Usage:
    """How much of a line was used: `used` of `total` entries."""

    used: int
    total: int


@dataclass(frozen=True)
class FulfilmentHandler:
    name: str
    fulfil: Callable
    undo: Callable
    on_cancel: Callable | None = None
    check: Callable | None = None
    usage: Callable | None = None


_handlers: dict[str, FulfilmentHandler] = {}


def register_fulfilment_handler(
    name: str,
    *,
    fulfil: Callable,
    undo: Callable,
    on_cancel: Callable | None = None,
    check: Callable | None = None,
    usage: Callable | None = None,
) -> None:
    """Register (or replace, for reloads and tests) the handler called `name`."""
    _handlers[name] = FulfilmentHandler(
        name=name, fulfil=fulfil, undo=undo, on_cancel=on_cancel, check=check, usage=usage
    )


def unregister_fulfilment_handler(name: str) -> None:
    _handlers.pop(name, None)


def is_registered(name: str) -> bool:
    return name in _handlers


def get_handler(name: str) -> FulfilmentHandler:
    return _handlers[name]


def _wallet_topup_fulfil(line) -> None:
    """The wallet was credited by the payment's own ledger posting (atomically with the
    payment): nothing left to do but mark the line."""


def _wallet_topup_undo(line) -> None:
    """The refund's ledger posting already debited the wallet."""


def register_builtin_handlers() -> None:
    register_fulfilment_handler(WALLET_TOPUP, fulfil=_wallet_topup_fulfil, undo=_wallet_topup_undo)
