"""Kiosk pages: the full-screen page of a kiosk terminal (a paired device, no login), its
one-time pairing, and the staff's devices page. Thin views over kiosk.actions and
kiosk.queries."""

from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from card.models import Reader
from identity.errors import DomainError
from identity.models import Facility
from identity.permissions import Capability
from identity.ratelimit import rate_limited
from identity.views.decorators import capability_required

from . import actions, queries
from .models import ScreenPairing

SCREEN_COOKIE = "sesame_kiosk_screen"
SCREEN_COOKIE_SALT = "kiosk.screen"
SCREEN_COOKIE_AGE = timedelta(days=365)
POLL_SECONDS = 1

# What a resident reads on the kiosk for each refusal: plain words, no staff jargon.
SCREEN_REFUSALS = {
    "card_suspended": gettext_lazy("This card is suspended. Please ask at the reception desk."),
    "card_replaced": gettext_lazy("This card was replaced by a newer one."),
    "card_expired": gettext_lazy("This card has expired. Please ask at the reception desk."),
    "card_revoked": gettext_lazy("This card can no longer be used."),
    "card_not_active": gettext_lazy("This card is not active yet."),
    "unknown_card": gettext_lazy("This card is not known here."),
}
SCREEN_UNREADABLE = gettext_lazy("This card could not be read. Please tap it again.")


# --- The kiosk screen ----------------------------------------------------------------------
def _screen_pairing(request, reader_id: str):
    try:
        data = signing.loads(
            request.COOKIES.get(SCREEN_COOKIE, ""),
            salt=SCREEN_COOKIE_SALT,
            max_age=SCREEN_COOKIE_AGE,
        )
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("r") != reader_id:
        return None
    return queries.paired_screen(str(data.get("p", "")), reader_id)


def screen_view(view):
    """Only the device paired with this kiosk reader (its signed cookie names a live pairing)
    sees its screen: no login, no token in the address. The view gets the pairing (its reader,
    and when it was paired: the screen shows only what happened since)."""

    @wraps(view)
    def wrapper(request, reader_id: str):
        pairing = _screen_pairing(request, reader_id)
        if pairing is None:
            raise PermissionDenied
        return view(request, pairing)

    return wrapper


def _entitlement_lines(state: queries.ScreenState) -> list[dict]:
    lines = []
    for entitlement in state.entitlements:
        try:
            facilities = Facility.Kind(entitlement["facility_kind"]).label
        except ValueError:
            facilities = entitlement["facility_kind"]
        lines.append({**entitlement, "facilities": facilities})
    return lines


# Why a payment did not happen, in the resident's words.
PAYMENT_OUTCOMES = {
    "declined": gettext_lazy("The payment was declined. Nothing was charged."),
    "cancelled": gettext_lazy("The payment was cancelled. Nothing was charged."),
    "timeout": gettext_lazy("No card was presented in time. Nothing was charged."),
    "terminal_unavailable": gettext_lazy(
        "The card terminal is not available. Nothing was charged. Please try again later."
    ),
}


def _screen_context(
    reader: Reader, state: queries.ScreenState, *, message: str = "", notice: str = ""
) -> dict:
    from payments.queries import wallet_balance

    refusal = ""
    if state.state == "tap" and not state.granted:
        refusal = SCREEN_REFUSALS.get(state.reason, SCREEN_UNREADABLE)
    context = {
        "reader": reader,
        "state": state,
        "refusal": refusal,
        "lines": _entitlement_lines(state),
        "poll_seconds": POLL_SECONDS,
        "message": message,
        "notice": notice,
    }
    if state.holder_id is not None:
        # Amounts and the balance are fine on a public screen; nothing more than a first name.
        context["balance_cents"] = wallet_balance(state.holder_id)
    session = state.session
    if session is not None:
        context["session"] = session
        context["topup_amounts"] = queries.TOPUP_AMOUNTS
        context["outcome"] = PAYMENT_OUTCOMES.get(session.outcome, PAYMENT_OUTCOMES["cancelled"])
        if session.step == session.Step.BUY:
            context["offers"] = queries.product_offers(reader, session.holder)
            context["has_account"] = session.holder.user_id is not None
        if session.step == session.Step.PAID:
            context["printer_ready"] = queries.printer_ready(reader)
    return context


def _current_state(pairing: ScreenPairing) -> queries.ScreenState:
    """The screen's state, an open session first brought up to date (payment outcome, 30 s
    without a touch, card removed — never while the terminal collects); nothing from before
    the screen was paired."""
    session = queries.open_session(pairing.reader)
    if session is not None and queries.session_due(session):
        actions.tick(session=session)
    return queries.screen_state(pairing.reader, paired_at=pairing.paired_at)


@screen_view
@require_GET
def screen(request, pairing: ScreenPairing):
    """The kiosk's full-screen page: "tap your card", then the holder's first name and what
    they hold; polled every second for the reader's latest tap."""
    reader = pairing.reader
    state = _current_state(pairing)
    response = render(request, "kiosk/screen.html", _screen_context(reader, state))
    response["Cache-Control"] = "no-store"
    return response


@screen_view
@require_GET
def screen_state(request, pairing: ScreenPairing):
    """Polled by htmx: 204 (nothing to swap) while the screen is up to date."""
    reader = pairing.reader
    state = _current_state(pairing)
    if request.GET.get("since") == state.key:
        return HttpResponse(status=204)
    response = render(request, "kiosk/_screen_state.html", _screen_context(reader, state))
    response["Cache-Control"] = "no-store"
    return response


def _tap_id(request) -> int | None:
    try:
        return int(request.POST.get("tap", ""))
    except ValueError:
        return None


def _amount(request) -> int | None:
    try:
        return int(request.POST.get("amount", ""))
    except ValueError:
        return None


@screen_view
@require_POST
def screen_action(request, pairing: ScreenPairing):
    """A press on the kiosk screen (htmx posts the form; without script, a plain POST then a
    redirect): choose a top-up or a product, pay it on the terminal, cancel, the demo's
    simulated terminal, print or mail the receipt, done. Each answers the new screen."""
    reader = pairing.reader
    do = request.POST.get("do", "")
    message = notice = ""
    _current_state(pairing)  # a session past its time ends first: a late press acts on nothing
    tap_id = _tap_id(request)
    try:
        if tap_id is None:
            raise actions.SessionOver(_("This screen is not current any more."))
        session = actions.open_session(reader=reader, tap_id=tap_id, paired_at=pairing.paired_at)
        if do in ("menu", "topup", "buy"):
            actions.choose(session=session, step=do)
        elif do == "pay_topup":
            actions.pay(session=session, amount_cents=_amount(request))
        elif do == "pay_product":
            actions.pay(session=session, product_code=request.POST.get("product", ""))
        elif do == "cancel":
            actions.cancel_payment(session=session)
        elif do in ("demo_approve", "demo_decline"):
            actions.demo_terminal(session=session, approve=do == "demo_approve")
        elif do == "print":
            actions.print_receipt(session=session)
            notice = _("Your receipt is being printed.")
        elif do == "email":
            actions.email_receipt(session=session)
            notice = _("Your receipt was sent to the email address of your account.")
        elif do == "done":
            actions.end_session(session=session, reason="done")
        else:
            raise DomainError(_("Unknown choice."))
    except actions.SessionOver:
        pass  # the screen moved on: show the current one
    except DomainError as error:
        message = error.message
    if not request.headers.get("HX-Request"):
        return redirect("kiosk:screen", reader_id=reader.public_id)
    state = _current_state(pairing)
    response = render(
        request,
        "kiosk/_screen_state.html",
        _screen_context(reader, state, message=message, notice=notice),
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@rate_limited("kiosk.pair", per_address="10/m", methods=frozenset({"POST"}))
def pair(request, code: str):
    """The one-time link staff generated, opened on the kiosk's browser. GET asks to confirm
    (a link previewer must not spend it); POST spends it and sets the device cookie."""
    if request.method == "GET":
        return render(request, "kiosk/pair.html", {"code": code})
    try:
        pairing = actions.pair_screen(code=code)
    except DomainError as error:
        return render(
            request, "kiosk/pair.html", {"code": code, "error": error.message}, status=400
        )
    response = redirect("kiosk:screen", reader_id=pairing.reader.public_id)
    response.set_cookie(
        SCREEN_COOKIE,
        signing.dumps(
            {"p": pairing.public_id, "r": pairing.reader.public_id}, salt=SCREEN_COOKIE_SALT
        ),
        max_age=int(SCREEN_COOKIE_AGE.total_seconds()),
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )
    return response


# --- Staff: devices ------------------------------------------------------------------------
@capability_required(Capability.MANAGE_TERRITORY)
@require_GET
def devices(request):
    """Every reader: last heartbeat, reader connected, printer, last error; stale after two
    minutes without a heartbeat. No personal data on this page."""
    return render(
        request,
        "kiosk/devices.html",
        {"rows": queries.device_rows(), "stale_minutes": int(queries.STALE_AFTER.seconds // 60)},
    )


@capability_required(Capability.MANAGE_TERRITORY)
@require_POST
def create_pairing(request, reader_id: str):
    reader = get_object_or_404(Reader, public_id=reader_id)
    try:
        pairing, code = actions.create_screen_pairing(actor=request.user, reader=reader)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("kiosk:devices")
    link = request.build_absolute_uri(reverse("kiosk:pair", args=[code]))
    return render(
        request,
        "kiosk/pairing_created.html",
        {"reader": reader, "link": link, "expires_at": pairing.expires_at},
    )


@capability_required(Capability.MANAGE_TERRITORY)
@require_POST
def revoke_pairings(request, reader_id: str):
    reader = get_object_or_404(Reader, public_id=reader_id)
    count = actions.revoke_screen_pairings(actor=request.user, reader=reader)
    messages.success(
        request,
        ngettext(
            "%(count)d screen of %(name)s unpaired.",
            "%(count)d screens of %(name)s unpaired.",
            count,
        )
        % {"count": count, "name": reader},
    )
    return redirect("kiosk:devices")
