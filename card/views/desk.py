"""The staff desk of an access point (Agents › Accueil): live taps from the reader agent, a
pass scanned or a number typed, a manual entry, the services' desk actions for the holder."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from identity.errors import DomainError, Forbidden
from identity.models import Person
from identity.permissions import Capability, has_capability
from identity.views.decorators import capability_required
from services.catalog import queries as catalog_queries
from services.catalog.actions import IDENTIFYING_DESK_KINDS
from services.catalog.models import AccessPoint, Entitlement
from services.catalog.registry import desk_action, desk_actions_at

from .. import queries
from ..actions.desk import record_manual_entry, staff_check
from ..models import Tap

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


def _desk_holdings(point: AccessPoint, tap: Tap) -> list[dict] | None:
    """What the holder of the tap shown can still use at this facility, across all their
    entitlements (not only the one the tap used): entries left, passes with their end. None
    for a tap without a holder and at a desk that only identifies people (a town hall)."""
    if tap.holder_id is None or point.facility.kind in IDENTIFYING_DESK_KINDS:
        return None
    held = catalog_queries.held_at(
        holder_id=tap.holder_id, facility=point.facility, on=timezone.localdate()
    )
    return [
        {
            "label": entitlement.label,
            "entries_left": entitlement.entries_left,
            "valid_until": entitlement.valid_until,
            "booking": entitlement.kind == Entitlement.Kind.BOOKING,
        }
        for entitlement in held
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
        entry["holdings"] = _desk_holdings(point, shown)
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
        answer = staff_check(actor=request.user, access_point=point, credential=credential)
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
        answer = record_manual_entry(actor=request.user, access_point=point, **values)
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
