"""The audit trail for administrators: filtered, paginated, exported as a spreadsheet. Every
reading and export is itself an entry of the trail."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .. import vocabulary
from ..actions import audit as audit_actions
from ..forms import AuditFilterForm
from ..permissions import Capability
from ..queries import AuditFilters
from ..spreadsheets import csv_response
from .decorators import capability_required

PAGE_SIZE = 50


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@capability_required(Capability.VIEW_AUDIT_TRAIL)
def audit_trail(request):
    form = AuditFilterForm(request.GET or None)
    page = rows = None
    if not form.is_bound or form.is_valid():
        filters = form.filters() if form.is_bound else AuditFilters()
        entries = audit_actions.read_audit_trail(actor=request.user, filters=filters)
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [vocabulary.trail_row(entry) for entry in page.object_list]
    return render(
        request,
        "identity/audit_trail.html",
        {"form": form, "page": page, "rows": rows, "query": _query_without_page(request)},
    )


@capability_required(Capability.VIEW_AUDIT_TRAIL)
def audit_trail_export(request):
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "identity/audit_trail.html",
            {"form": form, "page": None, "rows": None, "query": ""},
            status=400,
        )
    filters = form.filters() if form.is_bound else AuditFilters()
    entries = audit_actions.export_audit_trail(actor=request.user, filters=filters)
    rows = (vocabulary.trail_row(entry) for entry in entries)
    return csv_response(
        filename=f"journal-audit-{timezone.localdate().isoformat()}.csv",
        header=[
            _("When"),
            _("Who"),
            _("Role"),
            _("What"),
            _("Whose data"),
            _("Why"),
            _("Channel"),
            _("Detail"),
        ],
        rows=(
            [
                formats.date_format(timezone.localtime(row.entry.at), "SHORT_DATETIME_FORMAT"),
                row.who,
                row.role,
                row.what,
                row.whose,
                row.why,
                row.channel,
                row.detail,
            ]
            for row in rows
        ),
    )
