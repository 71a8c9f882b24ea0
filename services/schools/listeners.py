"""The schools listen to a change of address (services.catalog.registry.announce_address_change):
an open pre-enrolment file asking for the catchment school gets a note in its timeline when
the school proposed for the new address differs from the one of the old address, so that the
clerk deciding it and the parent both know before the mayor's certificate is issued."""

from datetime import date, timedelta

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from identity.models import AuditEntry, Household
from services.procedures.actions.handling import post_note
from services.procedures.queries import open_files_of

from . import queries
from .levels import next_school_year
from .procedures import CATCHMENT, KEY, submitted_on


def _school_name(catchment: queries.Catchment) -> str:
    if catchment.school is not None:
        return catchment.school.name
    return queries.status_label(catchment)


def household_moved(household: Household, since: date) -> None:
    for file in open_files_of(household, KEY):
        if file.data.get("choice") != CATCHMENT:
            continue  # a derogation names its school: the address does not change it
        school_year = next_school_year(submitted_on(file))
        before = queries.catchment_of_household(
            household, on=since - timedelta(days=1), school_year=school_year
        )
        after = queries.catchment_of_household(household, on=since, school_year=school_year)
        if before.school is not None and before.school == after.school:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            text = _(
                "The household moves on %(day)s. The school for the new address is: %(after)s "
                "(for the former address: %(before)s). The town hall checks the school before "
                "deciding; ask for a derogation if you wish to keep the former one."
            ) % {
                "day": since.strftime("%d/%m/%Y"),
                "after": _school_name(after),
                "before": _school_name(before),
            }
        post_note(file=file, text=text, channel=AuditEntry.Channel.COUNTER)
