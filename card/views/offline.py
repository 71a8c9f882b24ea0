"""Agents › Hors ligne: the taps staff should look at (not honoured offline, counter jumps)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from identity.permissions import Capability, has_capability

from .. import queries
from .desk import DESK_LABELS

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
    facilities = queries.attendance_facilities(request.user)
    chosen = None
    wanted = request.GET.get("facility", "")
    if wanted:
        chosen = next((facility for facility in facilities if facility.public_id == wanted), None)
        if chosen is None:
            raise PermissionDenied
    taps = queries.taps_to_review([chosen] if chosen else facilities)
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
