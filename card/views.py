"""Card pages: residents' cards, the clerk's card desk, staff scanning. Thin views over
card.actions and card.queries."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.forms import show_domain_error
from identity.models import AuditEntry, Facility, Person
from identity.permissions import Capability, can_act_for, has_capability
from identity.views.decorators import capability_required, resident_required
from services.catalog import queries as catalog_queries
from services.catalog.models import AccessPoint
from services.catalog.registry import desk_action, desk_actions_at

from . import actions, charts, credentials, forms, pdf, queries
from .models import Card, Tap


def photo(request, public_id: str):
    """A card's identity photo: for its holder (or their guardian), through a signed URL
    handed to a staff desk screen for the duration of a check, or for a clerk (audited)."""
    card = get_object_or_404(Card.objects.select_related("holder"), public_id=public_id)
    if not card.photo:
        raise Http404
    signed = queries.photo_signature_is_valid(public_id, request.GET.get("s", ""))
    if not signed and not (
        request.user.is_authenticated and can_act_for(request.user, card.holder)
    ):
        if not has_capability(request.user, Capability.EDIT_RESIDENT_FILE):
            raise PermissionDenied
        # A clerk checks a card request's photo, or a face at the counter: a staff read of
        # personal data, which the resident sees in "Who looked at my file".
        record_audit_entry(
            actor=request.user,
            action="staff.card_photo_viewed",
            person=card.holder,
            target=card.number,
            channel=AuditEntry.Channel.COUNTER,
        )
    response = FileResponse(card.photo.open("rb"))
    response["Cache-Control"] = "private, no-store"
    return response


# --- Staff desk ----------------------------------------------------------------------------

# What the desk says for each reason code and flag of a tap (card.api.TapOut.reason).
DESK_LABELS = {
    "granted": gettext_lazy("Entry granted"),
    "valid": gettext_lazy("Valid (checked at the desk, nothing used)"),
    "identified": gettext_lazy("Card valid: resident identified"),
    "exit": gettext_lazy("Exit"),
    "manual_entry": gettext_lazy("Manual entry recorded by staff"),
    "invalid_credential": gettext_lazy("Invalid card or pass (forged or damaged)"),
    "expired_credential": gettext_lazy("Pass code out of date (a screenshot?)"),
    "unknown_card": gettext_lazy("Unknown card"),
    "replay": gettext_lazy("Code already used (a copy or a screenshot?)"),
    "card_suspended": gettext_lazy("Card suspended (lost or stolen)"),
    "card_replaced": gettext_lazy("Card replaced by a newer one"),
    "card_expired": gettext_lazy("Card expired"),
    "card_revoked": gettext_lazy("Card revoked"),
    "card_not_active": gettext_lazy("Card not active yet"),
    "no_entitlement": gettext_lazy("No valid pass and no entry left"),
    "closed": gettext_lazy("Closed at this hour"),
    "capacity_reached": gettext_lazy("Full: maximum occupancy reached"),
    "already_inside": gettext_lazy("Already inside (no exit since the last entry)"),
    "counter_jump": gettext_lazy("Taps are missing since the last one: a copied card?"),
    "not_honoured": gettext_lazy("Let in offline, but not honoured"),
}


def desk_view(view):
    """Desk pages need SCAN_CARDS; each view then checks it at the access point's facility.
    A poll or a form sent by htmx after the session ended sends the whole page to login."""
    guarded = capability_required(Capability.SCAN_CARDS)(view)

    @wraps(view)
    def wrapper(request, public_id: str, **kwargs):
        if not request.user.is_authenticated and request.headers.get("HX-Request"):
            desk_url = reverse("card:desk", args=[public_id])
            return HttpResponse(headers={"HX-Redirect": redirect_to_login(desk_url).url})
        return guarded(request, public_id, **kwargs)

    return wrapper


def _desk_point(request, public_id: str) -> AccessPoint:
    point = get_object_or_404(AccessPoint.objects.select_related("facility"), public_id=public_id)
    if not has_capability(request.user, Capability.SCAN_CARDS, facility=point.facility):
        raise PermissionDenied
    return point


def _desk_entry(tap: Tap, *, with_photo: bool = False) -> dict:
    """What the desk shows of a tap: the answer given, the holder's first name only."""
    holder = tap.response.get("holder") or {}
    photo_url = ""
    if with_photo and tap.card is not None and tap.card.photo:
        photo_url = queries.signed_photo_url(tap.card.public_id)
    return {
        "pk": tap.pk,
        "granted": tap.granted,
        "reason": tap.reason,
        "reason_label": DESK_LABELS.get(tap.reason, tap.reason),
        "flags": [DESK_LABELS.get(flag, flag) for flag in tap.response.get("flags", [])],
        "at": tap.received_at,
        "how": tap.get_credential_display(),
        "first_name": holder.get("first_name", ""),
        "photo_url": photo_url,
        "entitlement": tap.response.get("entitlement"),
        "staff_reason": tap.staff_reason,
    }


def _desk_services(request, point: AccessPoint, tap: Tap, *, result=None) -> list[dict]:
    """What the services registered for this desk offer the holder of the tap shown (waste
    bags at a town hall): each action's summary and its small form, which names the tap. Only
    for a tap that identifies its holder to this staff member (queries.tap_identifies_holder);
    `result` is the answer to the action just performed here, shown under its form."""
    offered = desk_actions_at(point)
    if not offered or not queries.tap_identifies_holder(
        tap, access_point=point, user=request.user, now=timezone.now()
    ):
        return []
    holder = Person.objects.select_related("household").get(pk=tap.holder_id)
    day = timezone.localdate()
    result = result or {}
    return [
        {
            "key": action.key,
            "label": action.label,
            "quantity_label": action.quantity_label or _("Quantity"),
            "max_quantity": action.max_quantity,
            "summary": action.summary(holder, day),
            "tap": tap.pk,
            **(result if result.get("key") == action.key else {}),
        }
        for action in offered
    ]


def _desk_live(
    taps: list[Tap],
    *,
    shown: Tap | None = None,
    error: DomainError | None = None,
    request=None,
    point: AccessPoint | None = None,
    service_result: dict | None = None,
):
    """The live part of the desk: one decision in large type (or a typing slip), the history,
    and `since`, the tap shown, so that a poll answers 204 until a newer one arrives. With the
    request and the access point, the services' desk actions for the holder shown."""
    if error is None and shown is None and taps:
        shown = taps[0]
    entry = _desk_entry(shown, with_photo=True) if shown is not None and error is None else None
    if entry is not None and request is not None and point is not None:
        entry["services"] = _desk_services(request, point, shown, result=service_result)
    newest = taps[0].pk if taps else ""
    return {
        "entry": entry,
        "error_message": error.message if error else "",
        "error_field": (error.field or "") if error else "",
        "history": [_desk_entry(tap) for tap in taps],
        "since": entry["pk"] if entry else newest,
    }


def _render_desk_page(request, point: AccessPoint, *, errors=None, values=None):
    context = {
        "point": point,
        "occupancy": catalog_queries.occupancy_today(point.facility),
        "errors": errors or {},
        "values": values or {},
        **_desk_live(queries.desk_taps(point), request=request, point=point),
    }
    return render(request, "card/desk.html", context)


@capability_required(Capability.SCAN_CARDS)
@require_GET
def desk_list(request):
    """The access points where this staff member may check cards."""
    points = queries.desk_access_points(request.user)
    return render(request, "card/desk_list.html", {"points": points})


@desk_view
@require_GET
def desk(request, public_id: str):
    """The desk screen of one access point: the latest decision, staff inputs, the history."""
    return _render_desk_page(request, _desk_point(request, public_id))


@desk_view
@require_GET
def desk_latest(request, public_id: str):
    """Polled every 2 s by htmx: 204 (nothing to swap) until a tap newer than `since`."""
    point = _desk_point(request, public_id)
    taps = queries.desk_taps(point)
    if request.GET.get("since", "") == str(taps[0].pk if taps else ""):
        return HttpResponse(status=204)
    live = _desk_live(taps, request=request, point=point)
    return render(request, "card/desk_live.html", {"point": point, **live})


@desk_view
@require_GET
def desk_occupancy(request, public_id: str):
    """Polled every 10 s: how many people are inside the facility now (entrances and exits at
    every gate of it), for a facility that counts them."""
    point = _desk_point(request, public_id)
    return render(
        request,
        "card/desk_occupancy.html",
        {"point": point, "occupancy": catalog_queries.occupancy_today(point.facility)},
    )


def _desk_answer(request, point: AccessPoint, *, answer=None, error=None, values=None):
    """After a staff input: htmx gets the live part (the new decision, or the slip); a plain
    form gets the page back (with the slip next to its field) or a redirect to it."""
    if request.headers.get("HX-Request"):
        taps = queries.desk_taps(point)
        shown = None
        if answer is not None:
            shown = next(
                (t for t in taps if t.reader_id is None and t.client_tap_id == answer["tap_id"]),
                None,
            )
        live = _desk_live(taps, shown=shown, error=error, request=request, point=point)
        return render(request, "card/desk_live.html", {"point": point, **live})
    if error is not None:
        return _render_desk_page(
            request, point, errors={error.field or "credential": error.message}, values=values
        )
    return redirect("card:desk", public_id=point.public_id)


@desk_view
@require_POST
def desk_check(request, public_id: str):
    """A card number typed, or a pass QR scanned by the device camera."""
    point = _desk_point(request, public_id)
    credential = request.POST.get("credential", "")
    try:
        answer = actions.staff_check(actor=request.user, access_point=point, credential=credential)
    except Forbidden as error:
        raise PermissionDenied from error
    except DomainError as error:
        return _desk_answer(request, point, error=error, values={"credential": credential})
    return _desk_answer(request, point, answer=answer)


@desk_view
@require_POST
def desk_manual_entry(request, public_id: str):
    """The card is forgotten: the agent lets the person in and says why."""
    point = _desk_point(request, public_id)
    values = {
        "reason": request.POST.get("reason", ""),
        "card_number": request.POST.get("card_number", ""),
    }
    try:
        answer = actions.record_manual_entry(actor=request.user, access_point=point, **values)
    except Forbidden as error:
        raise PermissionDenied from error
    except DomainError as error:
        return _desk_answer(request, point, error=error, values=values)
    return _desk_answer(request, point, answer=answer)


@desk_view
@require_POST
def desk_service(request, public_id: str, key: str):
    """A service's desk action (services.catalog.registry) for the holder of a card just
    checked here: the form names the tap, never a person; the tap must identify its holder to
    this staff member (queries.desk_service_tap), and the registered action checks the rest."""
    point = _desk_point(request, public_id)
    action = desk_action(key, at=point)
    if action is None:
        raise Http404
    tap = queries.desk_service_tap(point, request.user, request.POST.get("tap", ""))
    raw = request.POST.get("quantity", "").strip()
    result: dict = {"key": key, "quantity": raw}
    if tap is None:
        result["error"] = _(
            "Check the card again: this action is for the card just checked at this desk."
        )
    elif not (raw.isascii() and raw.isdigit()):
        result["error"] = _("Enter a whole number.")
    else:
        try:
            result["done"] = action.perform(
                actor=request.user, person=tap.holder, access_point=point, quantity=int(raw)
            )
            result["quantity"] = ""
        except Forbidden as error:
            raise PermissionDenied from error
        except DomainError as error:
            result["error"] = error.message
    if not request.headers.get("HX-Request"):
        if "done" in result:
            messages.success(request, result["done"])
        else:
            messages.error(request, result["error"])
        return redirect("card:desk", public_id=point.public_id)
    taps = queries.desk_taps(point)
    if tap is None:
        live = _desk_live(taps, error=DomainError(result["error"]), request=request, point=point)
    else:
        live = _desk_live(taps, shown=tap, request=request, point=point, service_result=result)
    return render(request, "card/desk_live.html", {"point": point, **live})


# --- Mon espace > Mes cartes ------------------------------------------------------------------

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


@resident_required
@require_http_methods(["GET", "POST"])
def request_card(request, person_id: str):
    holder = _person_for(request, person_id)
    if request.method == "POST":
        form = forms.PhotoForm(request.POST, request.FILES)
    else:
        form = forms.PhotoForm()
    if form.is_bound and form.is_valid():
        try:
            actions.request_card(
                actor=request.user, holder=holder, photo=form.cleaned_data["photo"]
            )
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
        card = actions.issue_phone_pass(actor=request.user, holder=holder)
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
            actions.suspend_card(actor=request.user, card=card, reason=form.cleaned_data["reason"])
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
        actions.reactivate_card(actor=request.user, card=card)
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
            actions.replace_card(actor=request.user, card=card)
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


# --- The card's own web address (a phone taps the card) ---------------------------------------


def _finder_name(card: Card) -> str:
    """First name and initial: enough for the holder to recognise their card, too little for
    a finder to look anyone up."""
    last = card.holder.last_name.strip()
    return f"{card.holder.first_name} {last[:1].upper()}." if last else card.holder.first_name


def tapped(request):
    """What a phone opens when it taps a card: settings.SESAME_CARD_URL with the SUN message.

    The message is verified cryptographically (credentials.read), but its counter is NOT
    claimed: this page opens nothing and grants nothing, so it is not a gate entry and must not
    take part in replay protection. Claiming it would also let any passer-by with a phone move
    the counter the gates rely on, and turn an anonymous GET into a write. A replayed URL only
    shows again what its first viewer saw (a first name and an initial). A phone read still
    raises the chip's counter, so the next gate tap sees a small jump: only jumps beyond
    actions.COUNTER_JUMP_THRESHOLD are flagged to staff."""
    raw = request.META.get("QUERY_STRING", "")
    # The MAC covers the raw characters the chip wrote: the query string is read undecoded.
    try:
        presented = credentials.read(raw, at=timezone.now())
    except credentials.InvalidCredential:
        presented = None
    if presented is None or presented.kind != "sun":
        response = render(request, "card/tapped_invalid.html", status=400)
    else:
        card = (
            Card.objects.select_related("holder")
            .filter(kind=Card.Kind.NFC, uid=presented.uid)
            .first()
        )
        if card is None:
            response = render(request, "card/tapped_invalid.html", {"unknown": True}, status=404)
        else:
            acts_for = request.user.is_authenticated and can_act_for(request.user, card.holder)
            response = render(
                request,
                "card/tapped.html",
                {"card": card, "finder_name": _finder_name(card), "acts_for": acts_for},
            )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


# --- Agents > Cartes: the town hall's card desk -------------------------------------------------

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
            card = actions.look_up_card(actor=request.user, number=form.cleaned_data["number"])
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
        lambda actor, card, data: actions.review_card_request(
            actor=actor, card=card, approve=data["decision"] == "approve", reason=data["reason"]
        ),
        gettext_lazy("The request is reviewed."),
        then="queue",
        form_class=forms.ReviewForm,
        form_name="review_form",
    ),
    "produce": ClerkStep(
        "fabrication",
        lambda actor, card, data: actions.produce_card(actor=actor, card=card, uid=data["uid"]),
        gettext_lazy("The chip is recorded: print the card and encode the chip."),
        form_class=forms.UidForm,
        form_name="uid_form",
    ),
    "activate": ClerkStep(
        "remise",
        lambda actor, card, data: actions.activate_card(actor=actor, card=card),
        gettext_lazy("The card is handed over: it works from now on."),
        then="queue",
    ),
    "suspend": ClerkStep(
        "suspension",
        lambda actor, card, data: actions.suspend_card(
            actor=actor, card=card, reason=data["reason"]
        ),
        gettext_lazy("The card is suspended."),
        form_class=forms.StaffSuspendForm,
        form_name="suspend_form",
    ),
    "reactivate": ClerkStep(
        "reactivation",
        lambda actor, card, data: actions.reactivate_card(actor=actor, card=card),
        gettext_lazy("The card works again."),
    ),
    "replace": ClerkStep(
        "remplacement",
        lambda actor, card, data: actions.replace_card(actor=actor, card=card),
        gettext_lazy("The previous card no longer works; here is its replacement."),
    ),
    "revoke": ClerkStep(
        "retrait",
        lambda actor, card, data: actions.revoke_card(
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
        data = actions.export_personalisation(actor=request.user, card=card)
    except Forbidden as error:
        raise PermissionDenied from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("card:clerk_card", card.public_id)
    response = JsonResponse(data, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="personnalisation-{card.number}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- Offline gates -------------------------------------------------------------------------

OFFLINE_TAPS_PER_PAGE = 50
OFFLINE_LABELS = {
    **DESK_LABELS,
    "clock_skew": gettext_lazy("The gate's clock is ahead of the server's"),
    "refused_offline": gettext_lazy("Refused by the gate while offline"),
}


@login_required
@require_GET
def offline_taps(request):
    """Taps staff should look at, newest first: those an offline gate let through that the
    server could not honour, and those whose card counter jumped (taps the server never saw:
    a skimmer, see docs/cards.md). For staff who see attendance, at the facilities where they
    do (a pool agent: their pool's)."""
    if not has_capability(request.user, Capability.VIEW_ATTENDANCE):
        raise PermissionDenied
    facilities = [
        facility
        for facility in Facility.objects.filter(access_points__isnull=False)
        .distinct()
        .order_by("name")
        if has_capability(request.user, Capability.VIEW_ATTENDANCE, facility=facility)
    ]
    chosen = None
    wanted = request.GET.get("facility", "")
    if wanted:
        chosen = next((facility for facility in facilities if facility.public_id == wanted), None)
        if chosen is None:
            raise PermissionDenied
    taps = (
        Tap.objects.filter(
            Q(not_honoured=True) | Q(counter_jump=True),
            access_point__facility__in=[chosen] if chosen else facilities,
        )
        .select_related("access_point__facility", "card", "holder")
        .order_by("-received_at", "-pk")
    )
    page = Paginator(taps, OFFLINE_TAPS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "at": tap.reader_time,
            "access_point": tap.access_point,
            "card_end": tap.card.number[-4:] if tap.card else "",
            "first_name": tap.holder.first_name if tap.holder else "",
            "reason": OFFLINE_LABELS.get(tap.reason, tap.reason),
            "code": tap.reason,
            "counter_jump": tap.counter_jump,
            "offline": tap.not_honoured,
        }
        for tap in page
    ]

    def page_query(number: int) -> str:
        query = request.GET.copy()
        query["page"] = number
        return query.urlencode()

    return render(
        request,
        "card/offline_taps.html",
        {
            "facilities": facilities,
            "chosen": chosen,
            "page": page,
            "rows": rows,
            "previous_query": page_query(page.previous_page_number())
            if page.has_previous()
            else "",
            "next_query": page_query(page.next_page_number()) if page.has_next() else "",
        },
    )


# --- Attendance statistics -----------------------------------------------------------------

ATTENDANCE_DEFAULT_DAYS = 28


@login_required
@require_GET
def attendance(request):
    """Entries per day and per hour of the day at one facility, as two charts and tables. For
    staff who see attendance, at the facilities where they do (a pool agent: their pool)."""
    if not has_capability(request.user, Capability.VIEW_ATTENDANCE):
        raise PermissionDenied
    facilities = [
        facility
        for facility in Facility.objects.filter(access_points__isnull=False)
        .distinct()
        .order_by("name")
        if has_capability(request.user, Capability.VIEW_ATTENDANCE, facility=facility)
    ]
    wanted = request.GET.get("facility", "")
    chosen = facilities[0] if facilities else None
    if wanted:
        chosen = next((facility for facility in facilities if facility.public_id == wanted), None)
        if chosen is None:
            raise PermissionDenied
    today = timezone.localdate()
    form = forms.AttendancePeriodForm(
        {
            "start": request.GET.get("start", today - timedelta(days=ATTENDANCE_DEFAULT_DAYS - 1)),
            "end": request.GET.get("end", today),
        },
        max_days=queries.ATTENDANCE_MAX_DAYS,
    )
    context = {"facilities": facilities, "chosen": chosen, "form": form, "stats": None}
    if chosen is not None and form.is_valid():
        stats = queries.attendance(
            chosen, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
        averages = stats.hourly_averages
        day_bars = [
            charts.Bar(
                label=formats.date_format(day, "j/n"),
                value=count,
                hint=f"{formats.date_format(day, 'DATE_FORMAT')}: {count}",
            )
            for day, count in stats.days
        ]
        hour_bars = [
            charts.Bar(
                label=str(hour),
                value=round(average, 1),
                hint=f"{hour:02d}:00–{hour:02d}:59: {formats.localize(round(average, 1))}",
            )
            for hour, average in enumerate(averages)
        ]
        # Inline SVG built by card.charts, which escapes every text it writes.
        context["days_chart"] = mark_safe(  # noqa: S308
            charts.bar_chart(
                day_bars,
                title=_("Entries per day at %(facility)s") % {"facility": chosen.name},
                x_label=_("Day"),
                y_label=_("Entries"),
                css_class="chart-days",
            )
        )
        context["hours_chart"] = mark_safe(  # noqa: S308
            charts.bar_chart(
                hour_bars,
                title=_("Average entries per hour of the day at %(facility)s")
                % {"facility": chosen.name},
                x_label=_("Hour of the day"),
                y_label=_("Entries per day (average)"),
                css_class="chart-hours",
            )
        )
        context["stats"] = stats
        context["hour_rows"] = [
            {"hour": hour, "total": total, "average": average}
            for hour, (total, average) in enumerate(zip(stats.hours, averages, strict=True))
        ]
    return render(request, "card/attendance.html", context)
