"""The school list as a CSV file: one way to write it, for the school service's download in the
admin and for the school's head's page. Its rows come from read_school_list (audited)."""

from django.http import HttpResponse
from django.utils.translation import gettext as _

from identity.models import Facility
from identity.schooling.models import Enrolment
from identity.spreadsheets import csv_response

from .levels import school_year_label
from .queries import guardians_of


def school_list_csv(*, start: int, lists: list[tuple[Facility, list[Enrolment]]]) -> HttpResponse:
    """Each school's children (as read_school_list returned them) for the school year starting
    in `start`: one line per child, their guardians and their emails in the last column."""
    guardians = guardians_of([e.child for _school, rows in lists for e in rows])
    rows = []
    for school, enrolments in lists:
        for enrolment in enrolments:
            child = enrolment.child
            rows.append(
                [
                    school.name,
                    enrolment.get_level_display(),
                    child.last_name,
                    child.first_name,
                    child.birth_date.strftime("%d/%m/%Y"),
                    enrolment.school_class.name if enrolment.school_class else "",
                    _("yes") if enrolment.derogation else _("no"),
                    ", ".join(
                        f"{g.name} <{g.email}>" if g.email else g.name
                        for g in guardians.get(child.pk, [])
                    ),
                ]
            )
    return csv_response(
        filename=f"ecoles-{school_year_label(start)}.csv",
        header=[
            _("School"),
            _("Level"),
            _("Last name"),
            _("First name"),
            _("Date of birth"),
            _("Class"),
            _("Derogation"),
            _("Guardians"),
        ],
        rows=rows,
    )
