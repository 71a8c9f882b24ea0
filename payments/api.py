"""The payments part of the public API: wallets, top-ups, orders and their documents.

Residents use their session (CSRF-checked) or a token; they see their own wallet and their
children's. Invalid input is a 422 naming the field (an amount ≤ 0 or above the maximum); a
refused action is a 400/403/404/409 `{"code", "message", "field"}` (a currency other than EUR,
a wallet that is not theirs)."""

import re
from datetime import datetime

from django.urls import reverse
from ninja import Field, Router, Schema, Status

from identity.api_auth import session_or_token
from identity.api_types import ErrorOut
from identity.errors import NotFound
from identity.models import Person
from identity.permissions import can_act_for

from . import queries
from .actions.inputs import MAX_TOPUP_CENTS, check_currency
from .actions.wallets import create_topup_order
from .models import CURRENCY, Order

router = Router(tags=["payments"])


class WalletOut(Schema):
    person_id: str
    first_name: str
    balance_cents: int
    currency: str = CURRENCY


class WalletLineOut(Schema):
    at: datetime
    label: str
    amount_cents: int


class WalletDetailOut(WalletOut):
    history: list[WalletLineOut]


class TopUpIn(Schema):
    person_id: str = Field(..., max_length=24)
    amount_cents: int = Field(..., gt=0, le=MAX_TOPUP_CENTS)
    currency: str = Field(CURRENCY, max_length=3)
    idempotency_key: str | None = Field(None, min_length=1, max_length=100)


class LineOut(Schema):
    label: str
    explanation: str
    quantity: int
    unit_price_cents: int
    total_cents: int


class PaymentDocumentOut(Schema):
    id: str
    kind: str
    reference: str
    amount_cents: int
    issued_at: datetime
    pdf_url: str


class OrderOut(Schema):
    id: str
    status: str
    channel: str
    total_cents: int
    currency: str
    created_at: datetime
    checkout_url: str
    lines: list[LineOut]
    documents: list[PaymentDocumentOut]


def _document_out(document) -> dict:
    return {
        "id": document.public_id,
        "kind": document.kind,
        "reference": document.reference,
        "amount_cents": document.amount_cents,
        "issued_at": document.issued_at,
        "pdf_url": reverse("payments:document", args=[document.public_id]),
    }


def _order_out(order: Order) -> dict:
    return {
        "id": order.public_id,
        "status": order.status,
        "channel": order.channel,
        "total_cents": order.total_cents,
        "currency": order.currency,
        "created_at": order.created_at,
        "checkout_url": reverse("payments:checkout", args=[order.public_id]),
        "lines": [
            {
                "label": line.label,
                "explanation": line.explanation,
                "quantity": line.quantity,
                "unit_price_cents": line.unit_price_cents,
                "total_cents": line.total_cents,
            }
            for line in order.lines.all()
        ],
        "documents": [_document_out(d) for d in order.documents.all()],
    }


# What a public id can be (`identity.models.new_public_id`): anything else (a NUL, which
# PostgreSQL refuses in a query) is simply not found.
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")


def _person(request, person_id: str) -> Person:
    person = (
        Person.objects.filter(public_id=person_id).first()
        if PUBLIC_ID.fullmatch(person_id)
        else None
    )
    if person is None or not can_act_for(request.auth, person):
        raise NotFound("No such wallet.", field="person_id")
    return person


@router.get("/payments/wallets", response=list[WalletOut], auth=session_or_token)
def wallets(request):
    """The wallets of the caller and of the children they are a guardian of."""
    return [
        {
            "person_id": p.public_id,
            "first_name": p.first_name,
            "balance_cents": queries.wallet_balance(p.pk),
        }
        for p in queries.people_i_pay_for(request.auth)
    ]


@router.get(
    "/payments/wallets/{person_id}",
    response={200: WalletDetailOut, 404: ErrorOut},
    auth=session_or_token,
)
def wallet(request, person_id: str):
    person = _person(request, person_id)
    return {
        "person_id": person.public_id,
        "first_name": person.first_name,
        "balance_cents": queries.wallet_balance(person.pk),
        "history": [vars(line) for line in queries.wallet_history(person.pk)],
    }


@router.post(
    "/payments/top-ups",
    response={201: OrderOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def top_up(request, payload: TopUpIn):
    """An order topping up a wallet; pay it at `checkout_url`. The same idempotency key
    returns the same order."""
    check_currency(payload.currency)
    person = _person(request, payload.person_id)
    order = create_topup_order(
        actor=request.auth,
        person=person,
        amount_cents=payload.amount_cents,
        idempotency_key=payload.idempotency_key,
    )
    return Status(201, _order_out(order))


@router.get("/payments/orders", response=list[OrderOut], auth=session_or_token)
def orders(request):
    return [_order_out(order) for order in queries.orders_of(request.auth)[:100]]


@router.get(
    "/payments/orders/{order_id}", response={200: OrderOut, 404: ErrorOut}, auth=session_or_token
)
def order(request, order_id: str):
    found = (
        Order.objects.filter(public_id=order_id).first() if PUBLIC_ID.fullmatch(order_id) else None
    )
    if found is None or not queries.can_see_order(request.auth, found):
        raise NotFound("No such order.")
    return _order_out(found)


@router.get("/payments/receipts", response=list[PaymentDocumentOut], auth=session_or_token)
def receipts(request):
    """Invoices, receipts and credit notes of the caller's orders, newest first."""
    return [_document_out(d) for d in queries.documents_of(request.auth)[:200]]
