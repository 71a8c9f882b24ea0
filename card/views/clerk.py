"""Agents › Cartes: the town hall's card desk (requests to review, cards to produce and to hand
over, every counter step on one card)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from identity.errors import DomainError, Forbidden
from identity.forms import show_domain_error
from identity.permissions import Capability
from identity.views.decorators import capability_required

from .. import forms, pdf, queries
from ..actions import lifecycle, numbers, personalisation
from ..models import Card

clerk_required = capability_required(Capability.EDIT_RESIDENT_FILE)


def _staff_card(public_id: str) -> Card:
    return get_object_or_404(Card.objects.select_related("holder__household"), public_id=public_id)


@clerk_required
@require_http_methods(["GET", "POST"])
def clerk_home(request):
    """The queue of requests to check, cards to produce and cards to hand over, and the look-up
    of any card by its number."""
    form = forms.CardNumberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            card = numbers.look_up_card(actor=request.user, number=form.cleaned_data["number"])
        except Forbidden as error:
            raise PermissionDenied from error
        except DomainError as error:
            show_domain_error(form, error)
        else:
            return redirect("card:clerk_card", card.public_id)
    return render(
        request,
        "card/clerk_home.html",
        {
            "lookup_form": form,
            "requested": queries.card_queue(Card.Status.REQUESTED),
            "validated": queries.card_queue(Card.Status.VALIDATED),
            "produced": queries.card_queue(Card.Status.PRODUCED),
            "reject_form": forms.ReviewForm(initial={"decision": "reject"}),
        },
    )


def _clerk_card_page(request, card: Card, **bound_forms):
    context = {
        "card": card,
        "review_form": forms.ReviewForm(),
        "uid_form": forms.UidForm(),
        "suspend_form": forms.StaffSuspendForm(),
        "revoke_form": forms.RevokeForm(),
        **bound_forms,
    }
    return render(request, "card/clerk_card.html", context)


@clerk_required
def clerk_card(request, public_id: str):
    return _clerk_card_page(request, _staff_card(public_id))


def _clerk_step(request, public_id: str, *, form_class=None, form_name="", perform, success, then):
    """The shape of every counter step: form → action → message. A refusal is shown next to
    the field on the card's page and changes nothing; success goes to `then` (the card's page,
    or the queue)."""
    card = _staff_card(public_id)
    form = form_class(request.POST) if form_class else None
    if form is None or form.is_valid():
        try:
            result = perform(card, form.cleaned_data if form else {})
        except Forbidden as error:
            raise PermissionDenied from error
        except DomainError as error:
            if form is None:
                messages.error(request, error.message)
            else:
                show_domain_error(form, error)
        else:
            messages.success(request, success)
            if then == "queue":
                return redirect("card:clerk_home")
            return redirect("card:clerk_card", result.public_id)
    card.refresh_from_db()
    return _clerk_card_page(request, card, **({form_name: form} if form else {}))


@dataclass(frozen=True)
class ClerkStep:
    """One counter step of the card desk: its form (if any), the action it calls, the message
    on success and where it goes next (the card's page, or the queue)."""

    path: str
    perform: Callable  # (actor, card, cleaned data) -> the card to show next
    success: Promise
    then: str = "card"
    form_class: type | None = None
    form_name: str = ""


CLERK_STEPS = {
    "review": ClerkStep(
        "examen",
        lambda actor, card, data: lifecycle.review_card_request(
            actor=actor, card=card, approve=data["decision"] == "approve", reason=data["reason"]
        ),
        gettext_lazy("The request is reviewed."),
        then="queue",
        form_class=forms.ReviewForm,
        form_name="review_form",
    ),
    "produce": ClerkStep(
        "fabrication",
        lambda actor, card, data: lifecycle.produce_card(actor=actor, card=card, uid=data["uid"]),
        gettext_lazy("The chip is recorded: print the card and encode the chip."),
        form_class=forms.UidForm,
        form_name="uid_form",
    ),
    "activate": ClerkStep(
        "remise",
        lambda actor, card, data: lifecycle.activate_card(actor=actor, card=card),
        gettext_lazy("The card is handed over: it works from now on."),
        then="queue",
    ),
    "suspend": ClerkStep(
        "suspension",
        lambda actor, card, data: lifecycle.suspend_card(
            actor=actor, card=card, reason=data["reason"]
        ),
        gettext_lazy("The card is suspended."),
        form_class=forms.StaffSuspendForm,
        form_name="suspend_form",
    ),
    "reactivate": ClerkStep(
        "reactivation",
        lambda actor, card, data: lifecycle.reactivate_card(actor=actor, card=card),
        gettext_lazy("The card works again."),
    ),
    "replace": ClerkStep(
        "remplacement",
        lambda actor, card, data: lifecycle.replace_card(actor=actor, card=card),
        gettext_lazy("The previous card no longer works; here is its replacement."),
    ),
    "revoke": ClerkStep(
        "retrait",
        lambda actor, card, data: lifecycle.revoke_card(
            actor=actor, card=card, reason=data["reason"]
        ),
        gettext_lazy("The card is revoked."),
        form_class=forms.RevokeForm,
        form_name="revoke_form",
    ),
}


@clerk_required
@require_POST
def clerk_step(request, public_id: str, step: str):
    """Every counter step, from CLERK_STEPS (card/urls.py gives each its address)."""
    spec = CLERK_STEPS[step]
    return _clerk_step(
        request,
        public_id,
        form_class=spec.form_class,
        form_name=spec.form_name,
        perform=lambda card, data: spec.perform(request.user, card, data),
        success=spec.success,
        then=spec.then,
    )


@clerk_required
def clerk_card_face(request, public_id: str):
    """The printable card face (PDF, ID-1 size) of a produced card."""
    card = _staff_card(public_id)
    if card.kind != Card.Kind.NFC or card.status != Card.Status.PRODUCED:
        messages.error(request, _("Only a produced card, not yet handed over, is printed."))
        return redirect("card:clerk_card", card.public_id)
    response = HttpResponse(pdf.card_face(card), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="carte-{card.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@clerk_required
@require_POST
def clerk_personalisation(request, public_id: str):
    """The encoding station's data (keys included): a POST, so that no prefetch, crawler or
    forged link can trigger an export; each one is audited by the action."""
    card = _staff_card(public_id)
    try:
        data = personalisation.export_personalisation(actor=request.user, card=card)
    except Forbidden as error:
        raise PermissionDenied from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("card:clerk_card", card.public_id)
    response = JsonResponse(data, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="personnalisation-{card.number}.json"'
    response["Cache-Control"] = "private, no-store"
    return response
