"""Mon espace › Mes cartes: a resident's cards and phone passes, and their children's."""

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from documents_vault import intake
from documents_vault import queries as vault_queries
from documents_vault.models import DocumentKind
from identity.errors import DomainError
from identity.forms import show_domain_error
from identity.models import Person
from identity.permissions import can_act_for
from identity.views.decorators import resident_required

from .. import credentials, forms, queries
from ..actions import lifecycle
from ..models import Card

PHONE_PASS_REFRESH_SECONDS = 10  # the code changes every 30 s (credentials.PHONE_PASS_STEP)
# htmx stops polling when a response has this status (the pass was suspended meanwhile).
HTMX_STOP_POLLING = 286


def _person_for(request, public_id: str) -> Person:
    """Someone the resident acts for (themself, a child in their care), or a 404: people of
    another household do not exist from here."""
    person = Person.objects.filter(public_id=public_id).first()
    if person is None or not can_act_for(request.user, person):
        raise Http404
    return person


def _card_for(request, public_id: str) -> Card:
    card = Card.objects.select_related("holder").filter(public_id=public_id).first()
    if card is None or not can_act_for(request.user, card.holder):
        raise Http404
    return card


# The pages check who may act for whom (a 404 otherwise) before calling an action; what an
# action still refuses (a stolen card unblocked online, a second card…) is a message.


@resident_required
def my_cards(request):
    return render(
        request, "card/my_cards.html", {"overview": queries.cards_overview(request.person)}
    )


def _photo_form(request, holder: Person) -> forms.PhotoForm:
    """The holder's photos in the safe to pick from, or a new one that goes into it."""
    documents = vault_queries.documents_for_picker(request.user, holder, [DocumentKind.PHOTO])
    data = (request.POST, request.FILES) if request.method == "POST" else ()
    return forms.PhotoForm(*data, documents=documents)


@resident_required
@require_http_methods(["GET", "POST"])
def request_card(request, person_id: str):
    holder = _person_for(request, person_id)
    form = _photo_form(request, holder)
    refused = intake.refusal(request)  # too large or a forged name, seen while receiving
    if refused is not None:
        form.is_valid()
        form.errors.pop("file", None)
        show_domain_error(form, refused)
        return render(
            request,
            "card/request_form.html",
            {"form": form, "holder": holder},
            status=refused.status,
        )
    if form.is_bound and form.is_valid():
        try:
            lifecycle.request_card(actor=request.user, holder=holder, **form.pick())
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(
                request,
                _("The card request for %(name)s is sent: the town hall checks the photo.")
                % {"name": holder.first_name},
            )
            return redirect("card:my_cards")
    return render(request, "card/request_form.html", {"form": form, "holder": holder})


@resident_required
@require_POST
def issue_phone_pass(request, person_id: str):
    holder = _person_for(request, person_id)
    try:
        card = lifecycle.issue_phone_pass(actor=request.user, holder=holder)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("card:my_cards")
    messages.success(
        request, _("The phone pass of %(name)s is ready.") % {"name": holder.first_name}
    )
    return redirect("card:phone_pass", card.public_id)


@resident_required
@require_http_methods(["GET", "POST"])
def suspend(request, public_id: str):
    """Report a card or a phone lost or stolen: a confirmation, then one click."""
    card = _card_for(request, public_id)
    initial = {"reason": request.GET.get("reason", "lost")}
    form = forms.ReportLossForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.suspend_card(
                actor=request.user, card=card, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(
                request, _("The card is blocked: it no longer opens anything from now on.")
            )
            return redirect("card:my_cards")
    return render(request, "card/confirm_suspend.html", {"card": card, "form": form})


@resident_required
@require_POST
def reactivate(request, public_id: str):
    card = _card_for(request, public_id)
    try:
        lifecycle.reactivate_card(actor=request.user, card=card)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The card works again."))
    return redirect("card:my_cards")


@resident_required
@require_http_methods(["GET", "POST"])
def replace(request, public_id: str):
    card = _card_for(request, public_id)
    if request.method == "POST":
        try:
            lifecycle.replace_card(actor=request.user, card=card)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if card.kind == Card.Kind.PHONE:
                messages.success(request, _("A new phone pass replaces the previous one."))
            else:
                messages.success(
                    request,
                    _(
                        "The previous card no longer works. The new one is being made; "
                        "the town hall tells you when it is ready."
                    ),
                )
            return redirect("card:my_cards")
    return render(request, "card/confirm_replace.html", {"card": card})


def _active_phone_pass(card: Card) -> bool:
    return card.kind == Card.Kind.PHONE and card.status == Card.Status.ACTIVE


def _phone_pass_context(card: Card) -> dict:
    now = timezone.now()
    payload = credentials.phone_pass_payload(card.number, now)
    qr = segno.make(payload, error="m")
    # Inline SVG (the CSP forbids inline style and script, not inline SVG): segno writes it
    # from the payload alone, which is digits, capitals and dots — nothing to escape.
    svg = mark_safe(qr.svg_inline(scale=5, border=4, dark="#000", light="#fff"))  # noqa: S308
    return {
        "card": card,
        "payload": payload,
        "qr_svg": svg,
        "generated_at": now,
        "refresh_seconds": PHONE_PASS_REFRESH_SECONDS,
    }


@resident_required
def phone_pass(request, public_id: str):
    card = _card_for(request, public_id)
    if not _active_phone_pass(card):
        raise Http404
    response = render(request, "card/phone_pass.html", _phone_pass_context(card))
    response["Cache-Control"] = "no-store"
    return response


def phone_pass_code(request, public_id: str):
    """The QR alone, polled by the pass page (htmx) so the code on screen is always current.
    When the session has ended, htmx is told to send the whole page to the login."""
    if not request.user.is_authenticated and request.headers.get("HX-Request"):
        login = redirect_to_login(reverse("card:phone_pass", args=[public_id])).url
        return HttpResponse(headers={"HX-Redirect": login})
    return _phone_pass_code(request, public_id)


@resident_required
def _phone_pass_code(request, public_id: str):
    card = _card_for(request, public_id)
    if not _active_phone_pass(card):
        return render(
            request,
            "card/_phone_pass_code.html",
            {"card": card, "ended": True},
            status=HTMX_STOP_POLLING,
        )
    response = render(request, "card/_phone_pass_code.html", _phone_pass_context(card))
    response["Cache-Control"] = "no-store"
    return response
