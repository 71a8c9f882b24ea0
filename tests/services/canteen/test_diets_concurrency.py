"""Two declarations of a child's diets at once (both guardians), on PostgreSQL: without the
child's row lock both read "no diet", so the audit trail says each one replaced nothing and the
first declaration is lost from the record of changes; with the lock they follow one another:
the second one's "before" is the first one's "after", and the diets are one declaration whole."""

import pytest

from identity.models import AuditEntry, Guardianship
from services.canteen import actions, queries
from services.canteen.actions import DietChoice
from services.canteen.models import Diet
from tests.concurrency import at_once, line_up
from tests.factories import PersonFactory, UserFactory
from tests.services.canteen.factories import canteen_site, enrolled_child

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_guardians():
    guardian, child = enrolled_child(canteen_site())
    other = PersonFactory(household=guardian.household, user=UserFactory())
    Guardianship.objects.create(guardian=other, child=child)
    return [guardian.user, other.user], child


def declare(user, child, kinds):
    return actions.declare_diets(
        actor=user, child=child, choices=[DietChoice(kind) for kind in kinds]
    )


def befores(child) -> list[list[str]]:
    entries = AuditEntry.objects.filter(action="canteen.diets_declared", person=child)
    return sorted(entry.changes["diets"][0] for entry in entries)


def test_without_the_lock_each_declaration_overlooks_the_other(two_guardians, monkeypatch):
    (first, second), child = two_guardians
    line_up(monkeypatch, queries, "diets_of", lock=False)
    at_once(
        lambda: declare(first, child, ["no_pork"]),
        lambda: declare(second, child, ["vegetarian"]),
    )
    assert befores(child) == [[], []]  # the race: both read "no diet"


def test_with_the_lock_they_follow_one_another(two_guardians, monkeypatch):
    (first, second), child = two_guardians
    line_up(monkeypatch, queries, "diets_of", lock=True)
    at_once(
        lambda: declare(first, child, ["no_pork"]),
        lambda: declare(second, child, ["vegetarian"]),
    )
    kinds = list(Diet.objects.filter(child=child).values_list("kind", flat=True))
    assert kinds in (["no_pork"], ["vegetarian"])  # one declaration, whole
    assert befores(child) in ([[], ["no_pork:"]], [[], ["vegetarian:"]])
