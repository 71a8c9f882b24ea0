"""The waste-sorting bags listen to a change of address
(services.catalog.registry.announce_address_change): the entitlement follows the household's
address (queries.entitled_on), and the household is told what that means for its bags when
the move crosses the territory's border. Within the territory nothing changes: the quota and
the rolls already taken this year are the household's, wherever it lives in it."""

from datetime import date, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from identity.models import Household
from identity.notifications import notify_household

from . import queries


def household_moved(household: Household, since: date) -> None:
    before = queries.entitled_on(household, since - timedelta(days=1))
    after = queries.entitled_on(household, since)
    if before == after:
        return
    with translation.override(settings.LANGUAGE_CODE):
        day = since.strftime("%d/%m/%Y")
        if after:
            quota = queries.quota_for(household, since.year)
            left = max((quota or 0) - queries.handed_out(household, since.year), 0)
            text = ngettext(
                "Welcome: from %(day)s your household may collect its waste-sorting bags at "
                "the town hall, %(left)s roll this year.",
                "Welcome: from %(day)s your household may collect its waste-sorting bags at "
                "the town hall, %(left)s rolls this year.",
                left,
            ) % {"day": day, "left": left}
        else:
            text = _(
                "Your new address is outside the territory: from %(day)s, the town hall no "
                "longer hands out waste-sorting bags to your household."
            ) % {"day": day}
        notify_household(
            household_id=household.pk,
            topic="waste_bags.household_moved",
            subject=_("Your move and the waste-sorting bags"),
            body=text,
            link=reverse("portal:home"),
            dedupe_key=f"waste_bags.moved:{household.pk}:{since.isoformat()}",
        )
