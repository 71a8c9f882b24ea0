"""A dish names its allergens from the 14 of EU regulation 1169/2011, nothing else; parents see
only the menus staff published, each dish with its allergens."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, StaffRole
from services.canteen import actions
from services.canteen.models import Allergen, Dish, Menu, validate_allergens
from tests.factories import site_administrator, staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch


def test_the_fourteen_regulated_allergens():
    assert len(Allergen.values) == 14


def test_a_dish_names_known_allergens_only():
    validate_allergens("gluten,milk,eggs")
    validate_allergens("")
    with pytest.raises(ValidationError) as refusal:
        validate_allergens("gluten,chocolate")
    assert "chocolate" in str(refusal.value)


# --- Published to parents ------------------------------------------------------------------------


PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def week_of_menus():
    site = canteen_site()
    lunch(site)
    guardian, child = enrolled_child(site)
    monday = Menu.objects.create(site=site, day=date(2026, 12, 7))
    Dish.objects.create(menu=monday, course="main", name="Poisson pané", allergens="fish,gluten")
    Dish.objects.create(menu=monday, course="starter", name="Carottes râpées")
    tuesday = Menu.objects.create(site=site, day=date(2026, 12, 8))
    Dish.objects.create(menu=tuesday, course="main", name="Hachis secret")
    return site, guardian, child, monday, tuesday


@pytest.mark.django_db
def test_parents_see_only_published_menus_with_their_allergens(week_of_menus, client):
    site, guardian, child, monday, tuesday = week_of_menus
    agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=site.school)
    with time_machine.travel(datetime(2026, 12, 4, 9, tzinfo=PARIS), tick=False):
        assert actions.publish_menus(actor=agent, menus=[monday]) == 1
        client.force_login(guardian.user)
        html = client.get(
            reverse("canteen:menus", args=[child.public_id]) + "?semaine=2026-12-09"
        ).content.decode()
    assert "Semaine du lundi 7 décembre 2026" in html
    assert "Poisson pané" in html
    assert "Hachis secret" not in html
    dish = html[html.index("Poisson pané") : html.index("</li>", html.index("Poisson pané"))]
    assert "Poissons" in dish
    assert "Céréales contenant du gluten" in dish
    # Courses in their order: the starter before the main course.
    assert html.index("Carottes râpées") < html.index("Poisson pané")
    entry = AuditEntry.objects.get(action="canteen.menus_published")
    assert entry.actor == agent
    assert entry.target == f"canteen.Menu:{monday.pk}"


@pytest.mark.django_db
def test_a_menu_without_dish_or_by_a_parent_is_not_published(week_of_menus):
    site, guardian, child, monday, tuesday = week_of_menus
    empty = Menu.objects.create(site=site, day=date(2026, 12, 10))
    agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=site.school)
    with pytest.raises(DomainError):
        actions.publish_menus(actor=agent, menus=[monday, empty])
    with pytest.raises(Forbidden):
        actions.publish_menus(actor=guardian.user, menus=[monday])
    elsewhere = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=canteen_site("Autre").school)
    with pytest.raises(Forbidden):
        actions.publish_menus(actor=elsewhere, menus=[monday])
    assert not Menu.objects.filter(published=True).exists()


@pytest.mark.django_db
def test_the_admin_publishes_menus_through_the_action(week_of_menus, client):
    site, guardian, child, monday, tuesday = week_of_menus
    administrator = site_administrator()
    client.force_login(administrator)
    response = client.post(
        "/admin/canteen/menu/",
        {"action": "publish", "_selected_action": [monday.pk, tuesday.pk]},
    )
    assert response.status_code == 302
    assert set(Menu.objects.filter(published=True).values_list("pk", flat=True)) == {
        monday.pk,
        tuesday.pk,
    }
    assert AuditEntry.objects.filter(action="canteen.menus_published").count() == 2
