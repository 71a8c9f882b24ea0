"""Mon espace > Buy passes and tickets: the products on sale, priced for each person the
resident acts for, and the purchase (an order paid through payments). Thin: actions decide."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from identity.errors import DomainError, Forbidden
from identity.permissions import person_of
from payments.actions.inputs import new_idempotency_key

from . import actions, queries
from .models import Product


def _resident(request):
    person = person_of(request.user)
    if person is None:
        raise Http404
    return person


def person_from_form(request, resident):
    """The person chosen in a form, among those the resident acts for (else 404)."""
    wanted = request.POST.get("person", "")
    for member in queries.people_acted_for(request.user, resident):
        if member.public_id == wanted:
            return member
    raise Http404


def new_form_nonce() -> str:
    """Drawn once per page; each purchase form's key is this nonce and the form's place."""
    return new_idempotency_key()


def to_basket(request):
    """Go to payments' basket page (its lines, prices, explanations, "Remove" buttons and the
    pay button), saying what happened: payments starts the payment there."""
    messages.success(request, _("Added to your basket."))
    return redirect("payments:basket")


def form_key(request) -> str | None:
    """The idempotency key a purchase form carries (one per form drawn): sent twice, the
    purchase is added once. (A NUL character never gets here: portal's middleware.)"""
    key = request.POST.get("idempotency_key", "").strip()
    return key[:100] or None


@login_required
@require_GET
def products(request):
    resident = _resident(request)
    people = [
        {"person": member, "offers": queries.offers_for(member)}
        for member in queries.people_acted_for(request.user, resident)
    ]
    return render(
        request,
        "catalog/products.html",
        {"people": people, "max_units": actions.MAX_UNITS, "form_nonce": new_form_nonce()},
    )


@login_required
@require_POST
def buy(request):
    resident = _resident(request)
    person = person_from_form(request, resident)
    # An inactive product too: the action says it is not on sale (taken off since the page).
    product = get_object_or_404(Product, public_id=request.POST.get("product", ""))
    raw = request.POST.get("quantity", "1").strip()
    if not (raw.isascii() and raw.isdigit()):
        messages.error(request, _("Enter a whole number."))
        return redirect("catalog:products")
    # Thousands of digits would not even convert (a ValueError, a 500): too many anyway.
    quantity = int(raw) if len(raw) <= 6 else actions.MAX_UNITS + 1
    try:
        sale = actions.buy_product(
            actor=request.user,
            person=person,
            product=product,
            quantity=quantity,
            idempotency_key=form_key(request),
        )
    except Forbidden as error:
        raise Http404 from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("catalog:products")
    if sale.order is None:
        messages.success(
            request,
            _("%(product)s for %(name)s: free, it is yours.")
            % {"product": product.name, "name": person.first_name},
        )
        return redirect("portal:home")
    return to_basket(request)
