"""The one posting function of the double-entry ledger, and its accounts.

`post` is the only writer of `LedgerTransaction` and `LedgerEntry`: it refuses entries that do
not sum to zero, locks the wallets it touches (in primary-key order, so two postings never
deadlock), refuses to take a wallet below zero and updates their cached balances. On PostgreSQL
a deferred constraint trigger checks the balance of each transaction again at commit, and other
triggers refuse any UPDATE or DELETE of entries (migration 0001). It must run inside the
caller's `transaction.atomic()`."""

from collections import defaultdict

from django.db import transaction
from django.utils.translation import gettext as _

from identity.models import Person

from .errors import InsufficientFunds, LedgerUnbalanced
from .models import LedgerAccount, LedgerEntry, LedgerTransaction, Regie
from .money import format_cents

Kind = LedgerAccount.Kind


def _get_or_create(code: str, **fields) -> LedgerAccount:
    # Django's get_or_create takes the account a concurrent transaction created meanwhile.
    return LedgerAccount.objects.get_or_create(code=code, defaults=fields)[0]


def wallet_account(person: Person | int) -> LedgerAccount:
    person_id = person if isinstance(person, int) else person.pk
    return _get_or_create(f"wallet:{person_id}", kind=Kind.WALLET, person_id=person_id)


def regie_account(kind: str, regie: Regie) -> LedgerAccount:
    """revenue, refunds, cash or cheque account of a régie."""
    return _get_or_create(f"{kind}:{regie.code}", kind=kind, regie=regie)


def provider_account(kind: str, provider: str) -> LedgerAccount:
    """clearing, bank, fees or disputes account of a provider."""
    return _get_or_create(f"{kind}:{provider}", kind=kind, provider=provider)


def suspense_account() -> LedgerAccount:
    return _get_or_create("suspense", kind=Kind.SUSPENSE)


def _lock_accounts(account_ids: list[int]) -> dict[int, LedgerAccount]:
    """Lock the wallets a posting touches, in primary-key order (never a deadlock)."""
    rows = LedgerAccount.objects.select_for_update().filter(pk__in=account_ids).order_by("pk")
    return {row.pk: row for row in rows}


def post(*, kind: str, entries: list[tuple[LedgerAccount, int]], **fields) -> LedgerTransaction:
    """Write one balanced transaction. `entries` are (account, signed cents): debit > 0,
    credit < 0; the same account may appear several times (amounts are merged). Other keyword
    arguments are `LedgerTransaction` fields (order, payment, refund, regie, description…).

    Raises `InsufficientFunds` when a wallet would go below zero (nothing written) and
    `LedgerUnbalanced` (a bug) when the amounts do not sum to zero."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger.post runs inside the caller's transaction")
    merged: dict[int, int] = defaultdict(int)
    accounts: dict[int, LedgerAccount] = {}
    for account, amount in entries:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise LedgerUnbalanced(f"amount {amount!r} is not an integer number of cents")
        merged[account.pk] += amount
        accounts[account.pk] = account
    merged = {pk: amount for pk, amount in merged.items() if amount != 0}
    if not merged:
        raise LedgerUnbalanced("a transaction needs entries")
    if sum(merged.values()) != 0:
        raise LedgerUnbalanced(f"entries sum to {sum(merged.values())}, not 0")

    wallet_ids = [pk for pk in merged if accounts[pk].kind == Kind.WALLET]
    if wallet_ids:
        locked = _lock_accounts(sorted(wallet_ids))
        for pk in wallet_ids:
            wallet = locked[pk]
            new_balance = wallet.balance_cents - merged[pk]  # credit-normal
            if new_balance < 0:
                raise InsufficientFunds(
                    _("The balance is insufficient (%(balance)s available).")
                    % {"balance": format_cents(wallet.balance_cents)},
                    field="amount_cents",
                )
            LedgerAccount.objects.filter(pk=pk).update(balance_cents=new_balance)

    txn = LedgerTransaction.objects.create(kind=kind, **fields)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(transaction=txn, account_id=pk, amount_cents=amount)
        for pk, amount in merged.items()
    )
    return txn
