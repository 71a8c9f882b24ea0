"""Refusals of the payments floor (all `identity.errors.DomainError`)."""

from identity.errors import Conflict, DomainError


class InsufficientFunds(DomainError):
    code = "insufficient_balance"


class RefundTooLarge(DomainError):
    code = "refund_exceeds_paid"


class RefundInProgress(Conflict):
    """What a refund asks for is held by another refund still waiting for the provider."""

    code = "refund_in_progress"


class AmountMismatch(Conflict):
    code = "amount_mismatch"


class LedgerUnbalanced(Exception):
    """A programming error: a posting whose entries do not sum to zero. Never shown to anyone."""
