"""Agents > École: the school's head reads their school's list for a school year, per level and
class, and downloads it as CSV. Only a head's own school: every read goes through
actions.read_school_list, which checks and audits it."""

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from identity.models import Facility
from identity.permissions import headed_schools

from . import actions, queries
from .exports import school_list_csv
from .levels import school_year_label


def _school_and_year(request) -> tuple[Facility, list[int], int]:
    """The head's school (the one asked for when they head several) and the school year asked
    for, else the coming one. Not a head: 403; a school they do not head: 404."""
    schools = headed_schools(request.user)
    if not schools:
        raise PermissionDenied
    asked = request.GET.get("ecole")
    school = next((s for s in schools if s.public_id == asked), None) if asked else schools[0]
    if school is None:
        raise Http404
    years = queries.list_years(school, timezone.localdate())
    try:
        year = int(request.GET.get("annee", ""))
    except ValueError:
        year = years[0]
    if year not in years:
        year = years[0]
    return school, years, year


@login_required
@require_GET
def head_list(request):
    school, years, year = _school_and_year(request)
    enrolments = actions.read_school_list(actor=request.user, school=school, school_year=year)
    guardians = queries.guardians_of([e.child for e in enrolments])
    groups = [
        {
            "level": level,
            "school_class": school_class or _("No class yet"),
            "children": [(e, guardians.get(e.child_id, [])) for e in rows],
        }
        for (level, school_class), rows in groupby(
            enrolments,
            key=lambda e: (
                e.get_level_display(),
                e.school_class.name if e.school_class else "",
            ),
        )
    ]
    return render(
        request,
        "schools/head_list.html",
        {
            "school": school,
            "schools": headed_schools(request.user),
            "years": [(y, school_year_label(y)) for y in years],
            "year": year,
            "year_label": school_year_label(year),
            "count": len(enrolments),
            "groups": groups,
        },
    )


@login_required
@require_GET
def head_list_csv(request):
    school, _years, year = _school_and_year(request)
    enrolments = actions.read_school_list(actor=request.user, school=school, school_year=year)
    return school_list_csv(start=year, lists=[(school, enrolments)])
