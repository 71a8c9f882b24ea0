"""The administration shows some residents' data (a child's diets, an enrolment, a booking):
opening such a list or one of its rows is recorded in the audit trail like a file opened, the
row's resident named, so that it shows in their *Who looked at my file*. Every admin page whose
rows name a person or a household is one of these."""

import pytest
from django.contrib import admin

from identity.admin import ResidentDataAdmin
from identity.models import AuditEntry, Household, Person
from identity.vocabulary import detail
from services.canteen.models import Diet
from tests.factories import guardian_and_child, site_administrator

pytestmark = [pytest.mark.django_db]


def test_every_admin_page_whose_rows_name_residents_records_its_readings():
    naming = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if any(
            getattr(field, "many_to_one", False) and field.related_model in (Person, Household)
            for field in model._meta.get_fields()
        )
        and not isinstance(model_admin, ResidentDataAdmin)
    ]
    assert naming == []


@pytest.fixture
def administrator():
    return site_administrator()


def test_opening_the_diets_list_and_a_childs_diet_is_recorded(client, administrator, settings):
    settings.LANGUAGE_CODE = "fr"
    _guardian, child = guardian_and_child()
    diet = Diet.objects.create(child=child, kind=Diet.Kind.NO_PORK)
    client.force_login(administrator)
    assert client.get("/admin/canteen/diet/").status_code == 200
    listed = AuditEntry.objects.get(action="staff.admin_data_viewed")
    assert (listed.actor, listed.person, listed.target) == (administrator, None, "canteen.diet")
    assert detail(listed) == "Régimes"
    assert client.get(f"/admin/canteen/diet/{diet.pk}/change/").status_code == 200
    opened = AuditEntry.objects.filter(action="staff.admin_data_viewed").latest("pk")
    assert opened.person == child  # in the child's household's Who looked at my file
    assert opened.channel == AuditEntry.Channel.COUNTER
