"""Fulfilment handlers: what a paid order line does, registered by name by the service that
sells it (payments never imports services).

A service registers its handlers when its app is ready::

    from payments.fulfilment import register_fulfilment_handler

    class PoolConfig(AppConfig):
        def ready(self):
            register_fulfilment_handler("pool.entry_book", fulfil=grant_book, undo=revoke_book)

`fulfil(line)` and `undo(line)` receive the `OrderLine` (its `payload`, `beneficiary`,
`quantity`), run inside the database transaction that marks the line fulfilled or undone (with
the line row locked): write what they grant with the ORM and it commits with the mark, or
raise and both roll back (the line is retried later). Each runs exactly once per line: fulfil
when the order is paid, undo when the line is refunded after having been fulfilled."""

from collections.abc import Callable
from dataclasses import dataclass

WALLET_TOPUP = "payments.wallet_topup"


@dataclass(frozen=True)
class FulfilmentHandler:
    name: str
    fulfil: Callable
    undo: Callable


_handlers: dict[str, FulfilmentHandler] = {}


def register_fulfilment_handler(name: str, *, fulfil: Callable, undo: Callable) -> None:
    """Register (or replace, for reloads and tests) the handler called `name`."""
    _handlers[name] = FulfilmentHandler(name=name, fulfil=fulfil, undo=undo)


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
