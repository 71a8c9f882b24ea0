"""Payment pages: the resident's wallets, basket, payment result and documents (Mon espace),
the demo provider's page, and the régisseur's payments, refunds, desk payments and daily
reconciliation. Thin: forms in, actions and queries out, refusals shown next to the field."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from identity.api_types import FIRST_DAY, LAST_DAY
from identity.errors import DomainError, NotFound
from identity.forms import show_domain_error
from identity.models import Person
from identity.permissions import Capability, can_act_for, has_capability
from identity.spreadsheets import csv_response
from identity.views.decorators import capability_required, resident_required

from . import queries
from .actions.auditing import audit_payments_listing, open_document, open_payment
from .actions.basket import remove_from_basket
from .actions.checkout import PAYMENT_PLACEHOLDER, checkout_key, start_payment
from .actions.desk import record_desk_payment
from .actions.inputs import new_idempotency_key
from .actions.orders import cancel_order
from .actions.provider_events import (
    record_payment_cancelled,
    record_payment_failed,
    record_payment_succeeded,
)
from .actions.refunds import refund_payment
from .actions.wallets import add_topup_to_basket, pay_order_from_wallet, wallet_payment_key
from .forms import DeskPaymentForm, PayForm, PaymentFilterForm, RefundForm, TopUpForm
from .fulfilment import WALLET_TOPUP
from .labels import in_french
from .models import Document, Order, OrderLine, Payment, Refund
from .money import format_cents
from .pdf import document_pdf, reconciliation_pdf
from .providers import ProviderError, online_provider, stripe_configured

# --- Mon espace --------------------------------------------------------------------------------


@resident_required
def my_payments(request):
    """Mes paiements: wallets of the resident and their children, orders, documents."""
    people = queries.people_i_pay_for(request.user)
    wallets = [{"person": p, "balance": queries.wallet_balance(p.pk)} for p in people]
    return render(
        request,
        "payments/my_payments.html",
        {
            "wallets": wallets,
            "orders": queries.orders_of(request.user)[:30],
            "documents": queries.documents_of(request.user)[:60],
        },
    )


def _person_i_act_for(request, public_id: str) -> Person:
    person = get_object_or_404(Person, public_id=public_id)
    if not can_act_for(request.user, person):
        raise Http404
    return person


@resident_required
@require_http_methods(["GET", "POST"])
def wallet(request, public_id):
    """One wallet: balance, history and the top-up form (self or a ward)."""
    person = _person_i_act_for(request, public_id)
    form = TopUpForm(request.POST or None, initial={"idempotency_key": new_idempotency_key()})
    if request.method == "POST" and form.is_valid():
        try:
            add_topup_to_basket(
                actor=request.user,
                person=person,
                amount_cents=form.cleaned_data["amount"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            return added_to_basket(request)
    return render(
        request,
        "payments/wallet.html",
        {
            "holder": person,
            "balance": queries.wallet_balance(person.pk),
            "history": queries.wallet_history(person.pk),
            "form": form,
        },
    )


def added_to_basket(request):
    """Where a purchase online ends: the basket page, with a message (the services' pages
    call this too)."""
    messages.success(request, _("Added to your basket."))
    return redirect("payments:basket")


@resident_required
def basket(request):
    """The resident's basket (its checkout page), or a word that it is empty."""
    order = queries.basket_of(request.user)
    if order is None:
        return render(request, "payments/basket_empty.html")
    return redirect("payments:checkout", order.public_id)


@resident_required
@require_POST
def remove_line(request, public_id):
    """The "Remove" button of a basket line."""
    line = get_object_or_404(
        OrderLine.objects.select_related("order"),
        public_id=public_id,
        order__buyer=request.user,
    )
    try:
        order = remove_from_basket(buyer=request.user, line=line)
    except NotFound as error:
        raise Http404 from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("payments:checkout", line.order.public_id)
    messages.success(
        request, _("“%(label)s” was removed from your basket.") % {"label": line.label}
    )
    if order.status == Order.Status.CANCELLED:
        return redirect("payments:basket")
    return redirect("payments:checkout", order.public_id)


def _my_order(request, public_id: str) -> Order:
    order = get_object_or_404(Order.objects.select_related("payer"), public_id=public_id)
    if not queries.can_see_order(request.user, order):
        raise Http404
    return order


@resident_required
@require_http_methods(["GET", "POST"])
def checkout(request, public_id):
    """An order's page: while unpaid, the basket (lines, how each was priced, the total, the
    pay button); once paid, the order (its reference, its lines and their refunds, its
    documents). The payment's key,
    made by the server from the account, the order and the attempt the page was drawn for,
    makes a double click one payment."""
    order = _my_order(request, public_id)
    provider = online_provider()
    # One attempt number per drawing of the page: a double click sends the same one (one
    # payment); after a refusal the page is drawn again with the next one.
    form = PayForm(
        request.POST or None,
        initial={"attempt": order.payments.count(), "total": order.total_cents},
    )
    if request.method == "POST" and form.is_valid():
        try:
            payment, start = start_payment(
                order=order,
                provider=provider.code,
                idempotency_key=checkout_key(
                    payer=request.user, order=order, attempt=form.cleaned_data["attempt"]
                ),
                expected_total_cents=form.cleaned_data.get("total"),
                return_url=request.build_absolute_uri(
                    reverse("payments:result", args=[PAYMENT_PLACEHOLDER])
                ),
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("payments:checkout", order.public_id)
        except ProviderError:
            messages.error(
                request, _("Card payment is unavailable right now. Please try again later.")
            )
            return redirect("payments:checkout", order.public_id)
        if start.kind == "redirect" and start.redirect_url:
            return redirect(start.redirect_url)
        if start.kind == "client_secret":  # the card fields are mounted on the same page
            result_url = reverse("payments:result", args=[payment.public_id])
            return _checkout_page(
                request,
                order,
                provider,
                provider_start=start,
                return_url=request.build_absolute_uri(result_url),
            )
        return redirect("payments:result", payment.public_id)
    return _checkout_page(
        request,
        order,
        provider,
        form=form,
        # Only the buyer changes their basket (a guardian seeing it does not).
        editable=order.basket and order.buyer_id == request.user.pk,
    )


@resident_required
@require_POST
def pay_with_wallet(request, public_id):
    """The order's "Pay from my wallet" button: the whole order at once, or the reason why not
    (the balance short) shown on the order's page."""
    order = _my_order(request, public_id)
    form = PayForm(request.POST)
    if not form.is_valid():
        return redirect("payments:checkout", order.public_id)
    try:
        payment = pay_order_from_wallet(
            actor=request.user,
            order=order,
            idempotency_key=wallet_payment_key(
                payer=request.user, order=order, attempt=form.cleaned_data["attempt"]
            ),
            expected_total_cents=form.cleaned_data.get("total"),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("payments:checkout", order.public_id)
    return redirect("payments:result", payment.public_id)


def _checkout_page(request, order: Order, provider, **context):
    own = queries.person_of(request.user)
    lines = queries.checkout_lines(order)
    context.update(
        # A top-up is never paid from a wallet: its basket is paid by card or at the desk.
        wallet_balance=queries.wallet_balance(own.pk)
        if own is not None and not any(row.line.handler == WALLET_TOPUP for row in lines)
        else None,
        order=order,
        lines=lines,
        cancellable=queries.can_cancel_order(request.user, order),
        provider=provider,
        documents=order.documents.order_by("issued_at", "pk"),
    )
    return render(request, "payments/checkout.html", context)


@resident_required
@require_POST
def cancel(request, public_id):
    order = _my_order(request, public_id)
    try:
        cancel_order(actor=request.user, order=order)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("payments:checkout", order.public_id)
    messages.success(request, _("The order was cancelled."))
    return redirect("payments:mine")


def _my_payment(request, public_id: str) -> Payment:
    payment = get_object_or_404(Payment.objects.select_related("order"), public_id=public_id)
    if not queries.can_see_order(request.user, payment.order):
        raise Http404
    return payment


@resident_required
def result(request, public_id):
    """After the provider: paid, refused, abandoned, or still waiting for its confirmation."""
    payment = _my_payment(request, public_id)
    return render(
        request,
        "payments/result.html",
        {
            "payment": payment,
            "order": payment.order,
            "documents": payment.documents.all(),
            "waiting": payment.status in (Payment.Status.CREATED, Payment.Status.PENDING),
        },
    )


@resident_required
def document(request, public_id):
    """An invoice, receipt or credit note as PDF: the buyer, the payer or their guardian."""
    doc = get_object_or_404(Document.objects.select_related("order"), public_id=public_id)
    if not queries.can_see_order(request.user, doc.order):
        raise Http404
    return _pdf_response(document_pdf(doc), f"{doc.reference}.pdf")


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- The demo provider's page ------------------------------------------------------------------


@resident_required
@require_http_methods(["GET", "POST"])
def demo_checkout(request, public_id):
    """Démo — aucun paiement réel: the resident chooses what the "bank" answers; the page
    then tells Sésame exactly what a provider's webhook would."""
    payment = _my_payment(request, public_id)
    if payment.provider != "demo" or stripe_configured():
        raise Http404  # once real payments are configured, the demo page is gone
    if request.method == "POST":
        outcome = request.POST.get("outcome")
        reference = payment.provider_reference
        try:
            if outcome == "pay":
                record_payment_succeeded(
                    provider="demo",
                    provider_reference=reference,
                    amount_cents=payment.amount_cents,
                    currency=payment.currency,
                    event_id=f"demo_evt_{payment.public_id}_succeeded",
                )
            elif outcome == "decline":
                record_payment_failed(
                    provider="demo",
                    provider_reference=reference,
                    reason=_("Card declined (demo)"),
                    event_id=f"demo_evt_{payment.public_id}_failed",
                )
            elif outcome == "abandon":
                record_payment_cancelled(provider="demo", provider_reference=reference)
            else:
                raise Http404
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("payments:result", payment.public_id)
    return render(
        request, "payments/demo_checkout.html", {"payment": payment, "order": payment.order}
    )


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """The Stripe webhook (`payments/stripe_webhooks.py`, verified there)."""
    # Imported on use: the Stripe SDK takes about a second to import, which every process
    # without Stripe configured (the demo, the tests, the task worker) would pay at start.
    from .stripe_webhooks import webhook

    return webhook(request)


# --- The régisseur -----------------------------------------------------------------------------


@capability_required(Capability.VIEW_PAYMENTS)
def staff_payments(request):
    form = PaymentFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    payments = queries.payments_list(
        status=filters.get("status") or "",
        provider=filters.get("provider") or "",
        channel=filters.get("channel") or "",
        day_from=filters.get("day_from"),
        day_to=filters.get("day_to"),
        search=(filters.get("q") or "").strip(),
    )[:200]
    audit_payments_listing(actor=request.user, what=request.GET.urlencode()[:100])
    return render(
        request,
        "payments/staff_payments.html",
        {"form": form, "payments": payments, "can_refund": _can_refund(request)},
    )


def _can_refund(request) -> bool:
    return has_capability(request.user, Capability.REFUND_PAYMENTS)


@capability_required(Capability.VIEW_PAYMENTS)
@require_http_methods(["GET", "POST"])
def staff_payment(request, public_id):
    """A payment, its order and refunds (opening it is audited); the refund form. Every answer
    to a refund says what happened: the refund made, still at the provider, or why not."""
    payment = _staff_payment(public_id)
    lines = list(payment.order.lines.select_related("regie"))
    usages = {line.pk: usage for line in lines if (usage := queries.line_usage(line))}
    form = RefundForm(
        request.POST or None,
        payment=payment,
        usages=usages,
        initial={
            "idempotency_key": new_idempotency_key(),
            "destination": "card" if payment.provider != "desk" else "cash",
            **_unused_part_proposed(request, lines, usages),
        },
    )
    if request.method == "POST":
        if not _can_refund(request):
            raise PermissionDenied
        if form.is_valid():
            try:
                refund = refund_payment(
                    actor=request.user,
                    payment=payment,
                    amount_cents=form.cleaned_data["amount"],
                    destination=form.cleaned_data["destination"],
                    reason=form.cleaned_data["reason"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    line_ids=[int(pk) for pk in form.cleaned_data["lines"]] or None,
                )
            except DomainError as error:
                show_domain_error(form, error)
                # Drawn from the payment as it is now (a refund made meanwhile may have left
                # nothing to refund).
                payment = _staff_payment(public_id)
            else:
                _tell_refund(request, refund)
                return redirect("payments:staff_payment", payment.public_id)
        if not _refund_form_shown(request, payment):
            # No form to show its errors beside (nothing is left to refund): above the page.
            for errors in form.errors.values():
                for text in errors:
                    messages.error(request, text)
    # The page shows the payer (also when a refund form comes back with its errors): audited.
    open_payment(actor=request.user, payment=payment)
    return render(
        request,
        "payments/staff_payment.html",
        {
            "payment": payment,
            "order": payment.order,
            "lines": [(line, usages.get(line.pk)) for line in lines],
            "refunds": payment.refunds.all(),
            "documents": payment.documents.all(),
            "form": form,
            "refund_form_shown": _refund_form_shown(request, payment),
        },
    )


def _unused_part_proposed(request, lines, usages) -> dict:
    """The refund form filled with the unused part of the line `?unused=<line>` names."""
    for line in lines:
        usage = usages.get(line.pk)
        if usage is not None and line.public_id == request.GET.get("unused"):
            euros, cents = divmod(usage.unused_cents, 100)
            return {"amount": f"{euros},{cents:02d}", "lines": [str(line.pk)]}
    return {}


def _staff_payment(public_id: str) -> Payment:
    return get_object_or_404(
        Payment.objects.select_related("order", "order__payer"), public_id=public_id
    )


def _refund_form_shown(request, payment: Payment) -> bool:
    return (
        _can_refund(request)
        and payment.status == Payment.Status.SUCCEEDED
        and payment.refundable_cents > 0
    )


def _tell_refund(request, refund: Refund) -> None:
    """What became of a refund (the one just asked for, or the first one of a request sent
    again with the same key)."""
    amount = {"amount": format_cents(refund.amount_cents)}
    if refund.status == Refund.Status.SUCCEEDED:
        messages.success(request, _("The refund of %(amount)s was recorded.") % amount)
    elif refund.status == Refund.Status.PENDING:
        messages.info(
            request,
            _(
                "The refund of %(amount)s is in progress: the payment provider has not "
                "confirmed it yet."
            )
            % amount,
        )
    else:
        messages.error(
            request,
            _("The payment provider refused the refund of %(amount)s: %(reason)s")
            % {**amount, "reason": refund.failure_reason},
        )


@capability_required(Capability.VIEW_PAYMENTS)
def staff_document(request, public_id):
    doc = get_object_or_404(
        Document.objects.select_related("order", "order__payer"), public_id=public_id
    )
    open_document(actor=request.user, document=doc)
    return _pdf_response(document_pdf(doc), f"{doc.reference}.pdf")


@capability_required(Capability.REFUND_PAYMENTS)
@require_http_methods(["GET", "POST"])
def staff_desk(request):
    """Cash or a cheque received at the régie's desk for an order awaiting payment."""
    form = DeskPaymentForm(request.POST or None, initial={"idempotency_key": new_idempotency_key()})
    if request.method == "POST" and form.is_valid():
        order = Order.objects.filter(public_id=form.cleaned_data["order"].strip()).first()
        if order is None:
            form.add_error("order", _("No order has this reference."))
        else:
            try:
                payment = record_desk_payment(
                    actor=request.user,
                    order=order,
                    method=form.cleaned_data["method"],
                    amount_cents=form.cleaned_data["amount"],
                    cheque_number=form.cleaned_data["cheque_number"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except DomainError as error:
                show_domain_error(form, error)
            else:
                messages.success(request, _("The payment was recorded; its receipt is ready."))
                return redirect("payments:staff_payment", payment.public_id)
    return render(request, "payments/staff_desk.html", {"form": form})


# Days a reconciliation can be asked for: the day after the last one must exist, and a day
# in year 1 lies before the earliest instant the database stores once moved to UTC.


def _day(request) -> tuple[date, bool]:
    """The `day` asked for, or today; False when what was asked is not a day."""
    asked = request.GET.get("day", "")
    try:
        day = date.fromisoformat(asked)
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        return timezone.localdate(), not asked
    return day, True


@capability_required(Capability.VIEW_PAYMENTS)
def reconciliation(request):
    day, understood = _day(request)
    fmt = request.GET.get("format")
    if fmt in ("csv", "pdf"):
        # For the régie and the public accountant: in French, whatever the reader's language.
        with in_french():
            report = queries.daily_reconciliation(day)
            if fmt == "csv":
                return csv_response(
                    filename=f"rapprochement-{day}.csv",
                    header=queries.reconciliation_header(),
                    rows=queries.reconciliation_csv_rows(report),
                )
            return _pdf_response(reconciliation_pdf(report), f"rapprochement-{day}.pdf")
    report = queries.daily_reconciliation(day)
    if not understood:
        messages.error(
            request, _("Enter a day such as 2026-03-31; today's reconciliation is shown.")
        )
    return render(
        request,
        "payments/reconciliation.html",
        {"report": report, "day": day, "labels": queries.RECONCILIATION_LABELS},
    )
