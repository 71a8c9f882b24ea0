"""Mon espace > Canteen: for each child in the parent's care enrolled at a school with a
canteen, the month of each service (book or cancel days until their deadline, shown as a date
and a time), a pattern of weeks, the child's diets and the week's published menu."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from documents_vault import queries as vault_queries
from documents_vault.forms import PickOrUploadForm
from documents_vault.models import DocumentKind
from identity.errors import DomainError, Forbidden
from identity.permissions import person_of
from services.catalog.views import form_key, new_form_nonce

from . import actions, queries
from .forms import DietForm, PatternForm
from .models import Diet


def _children(request) -> list[queries.ChildAtCanteen]:
    if person_of(request.user) is None:
        raise Http404  # a staff account has no household
    return queries.children_at_canteen(request.user, timezone.localdate())


def _child(request, child_id: str) -> queries.ChildAtCanteen:
    """A child the signed-in parent cares for, enrolled at a canteen; 404 otherwise (another
    household's child is not said to exist)."""
    found = next((c for c in _children(request) if c.child.public_id == child_id), None)
    if found is None:
        raise Http404
    return found


def _service(entry: queries.ChildAtCanteen, service_id: str):
    service = next((s for s in entry.services if s.public_id == service_id), None)
    if service is None:
        raise Http404
    return service


def _month_of(value: str) -> date:
    """ "2026-09" → 1 September 2026; anything else → this month."""
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except (TypeError, ValueError):
        return timezone.localdate().replace(day=1)


def _dates(values: list[str]) -> list[date]:
    try:
        return [date.fromisoformat(value) for value in values]
    except ValueError as error:
        raise DomainError(_("Choose days from the calendar."), field="days") from error


@login_required
@require_GET
def home(request):
    return render(request, "canteen/home.html", {"children": _children(request)})


@login_required
@require_http_methods(["GET", "POST"])
def month(request, child_id: str, service_id: str):
    entry = _child(request, child_id)
    service = _service(entry, service_id)
    first = _month_of(request.POST.get("mois") or request.GET.get("mois", ""))
    if request.method == "POST":
        try:
            change = actions.set_days(
                actor=request.user,
                child=entry.child,
                service=service,
                offered=_dates(request.POST.getlist("offered")),
                chosen=_dates(request.POST.getlist("days")),
                key=form_key(request) or "",
            )
        except Forbidden as error:
            raise Http404 from error
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if change.booked or change.cancelled:
                messages.success(
                    request,
                    _("Saved: %(booked)s day(s) booked, %(cancelled)s day(s) cancelled.")
                    % {"booked": len(change.booked), "cancelled": len(change.cancelled)},
                )
            else:
                messages.success(request, _("Nothing to change."))
        url = reverse("canteen:month", args=[entry.child.public_id, service.public_id])
        return redirect(f"{url}?mois={first:%Y-%m}")
    calendar = queries.month_calendar(entry.child, service, first, timezone.now())
    return render(
        request,
        "canteen/month.html",
        {
            "entry": entry,
            "service": service,
            "calendar": calendar,
            "form_nonce": new_form_nonce(),
            "statuses": queries.DayStatus,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def pattern(request, child_id: str, service_id: str):
    entry = _child(request, child_id)
    service = _service(entry, service_id)
    today = timezone.localdate()
    form = PatternForm(
        request.POST or None,
        service=service,
        initial={"start": today + timedelta(days=1), "until": today + timedelta(days=60)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            answer = actions.book_pattern(
                actor=request.user,
                child=entry.child,
                service=service,
                weekdays=[int(d) for d in data["weekdays"]],
                start=data["start"],
                until=data["until"],
                every_weeks=data["every_weeks"],
                key=form_key(request) or "",
            )
        except Forbidden as error:
            raise Http404 from error
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return render(
                request,
                "canteen/pattern_done.html",
                {"entry": entry, "service": service, "answer": answer},
            )
    return render(
        request,
        "canteen/pattern.html",
        {"entry": entry, "service": service, "form": form, "form_nonce": new_form_nonce()},
    )


def _care_plan_form(request, entry, data=None, files=None) -> PickOrUploadForm:
    documents = vault_queries.documents_for_picker(
        request.user, entry.child, [DocumentKind.CARE_PLAN]
    )
    form = PickOrUploadForm(data, files, documents=documents, prefix="pai")
    form.fields["document"].required = False
    return form


@login_required
@require_http_methods(["GET", "POST"])
def diets(request, child_id: str):
    entry = _child(request, child_id)
    current = queries.diets_of(entry.child)
    by_kind = {diet.kind: diet for diet in current}
    initial = {
        "kinds": list(by_kind),
        "details_allergy_pai": getattr(by_kind.get(Diet.Kind.ALLERGY_PAI), "details", ""),
        "details_texture": getattr(by_kind.get(Diet.Kind.TEXTURE), "details", ""),
        "packed_meal": getattr(by_kind.get(Diet.Kind.ALLERGY_PAI), "packed_meal", False),
    }
    form = DietForm(request.POST or None, initial=initial)
    care_plan = _care_plan_form(
        request, entry, request.POST or None, request.FILES if request.method == "POST" else None
    )
    pai_recorded = getattr(by_kind.get(Diet.Kind.ALLERGY_PAI), "care_plan", None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        choices = [
            actions.DietChoice(
                kind,
                data.get(f"details_{kind}", "") or "",
                packed_meal=kind == Diet.Kind.ALLERGY_PAI and data["packed_meal"],
            )
            for kind in data["kinds"]
        ]
        picked = None
        wants_pai = Diet.Kind.ALLERGY_PAI in data["kinds"]
        if wants_pai and care_plan.is_valid() and care_plan.cleaned_data.get("document"):
            picked = care_plan.pick()
        if wants_pai and not care_plan.is_valid():
            return _diets_page(request, entry, form, care_plan, pai_recorded, current)
        try:
            actions.declare_diets(
                actor=request.user, child=entry.child, choices=choices, care_plan=picked
            )
        except Forbidden as error:
            raise Http404 from error
        except DomainError as error:
            if error.field in form.fields:
                form.add_error(error.field, error.message)
            elif error.field in ("document", "file"):
                care_plan.add_error(error.field, error.message)
            else:
                form.add_error(None, error.message)
        else:
            messages.success(request, _("The diets are recorded."))
            return redirect("canteen:diets", child_id=entry.child.public_id)
    return _diets_page(request, entry, form, care_plan, pai_recorded, current)


def _diets_page(request, entry, form, care_plan, pai_recorded, current):
    return render(
        request,
        "canteen/diets.html",
        {
            "entry": entry,
            "form": form,
            "care_plan": care_plan,
            "pai_recorded": pai_recorded,
            # Not "current": the base template's language switch names its variable so.
            "current_diets": current,
        },
    )


@login_required
@require_GET
def menus(request, child_id: str):
    entry = _child(request, child_id)
    try:
        day = date.fromisoformat(request.GET.get("semaine", ""))
    except ValueError:
        day = timezone.localdate()
    monday = day - timedelta(days=day.weekday())
    sites = {service.site_id: service.site for service in entry.services}
    weeks = [(site, queries.published_week(site, monday)) for site in sites.values()]
    return render(
        request,
        "canteen/menus.html",
        {
            "entry": entry,
            "weeks": weeks,
            "monday": monday,
            "previous": monday - timedelta(days=7),
            "next": monday + timedelta(days=7),
        },
    )
