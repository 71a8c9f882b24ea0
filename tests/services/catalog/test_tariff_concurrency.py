"""Two administrators publishing a grid for the same product at the same instant: each
publication alone is valid (it closes the grid in force the day before), together they would
leave two grids without an end in force on the same days. The product's row lock serialises
them: the second sees the first (and closes it, or is refused). Following pretix, the race is
first shown with the lock switched off. PostgreSQL only."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.errors import DomainError
from identity.models import StaffRole
from services.catalog import tariffs
from services.catalog.models import TariffGrid
from tests.concurrency import line_up, run_at_once
from tests.factories import ProductFactory, staff_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")


def publish_both_at_once(monkeypatch, *, lock: bool):
    product = ProductFactory()
    with time_machine.travel(datetime(2026, 6, 15, 10, 0, tzinfo=PARIS), tick=False):
        tariffs.publish_tariff_grid(
            actor=None,
            product=product,
            valid_from=date(2025, 9, 1),
            lines=[tariffs.LineInput(price_cents=350)],
            historical=True,
        )
        admins = [staff_user(StaffRole.Role.ADMIN), staff_user(StaffRole.Role.ADMIN)]
        # Each publication decides what to close from its reading of the product's grids.
        line_up(monkeypatch, tariffs, "check_grid_period", lock=lock)

        def publish(admin, valid_from, price):
            return lambda: tariffs.publish_tariff_grid(
                actor=admin,
                product=product,
                valid_from=valid_from,
                lines=[tariffs.LineInput(price_cents=price)],
            )

        outcome = run_at_once(
            publish(admins[0], date(2026, 9, 1), 380), publish(admins[1], date(2026, 10, 1), 400)
        )
    periods = sorted(
        TariffGrid.objects.filter(product=product).values_list("valid_from", "valid_until")
    )
    return outcome, periods


def overlapping(periods) -> bool:
    return any(
        later_from <= (earlier_until or date.max)
        for (_f, earlier_until), (later_from, _u) in zip(periods, periods[1:], strict=False)
    )


def test_without_the_lock_two_publications_leave_two_grids_in_force(monkeypatch):
    outcome, periods = publish_both_at_once(monkeypatch, lock=False)
    assert outcome.errors == []
    assert overlapping(periods)


def test_with_the_lock_the_second_publication_sees_the_first(monkeypatch):
    """Whichever comes second reads the first: the October grid closes the September one, or
    the September grid is refused, the October one having closed the grid in force already."""
    outcome, periods = publish_both_at_once(monkeypatch, lock=True)
    assert not overlapping(periods)
    assert all(isinstance(error, DomainError) for error in outcome.errors)
    assert [error.field for error in outcome.errors] in ([], ["valid_from"])
    assert len(periods) == 3 - len(outcome.errors)
    assert periods[-1] == (date(2026, 10, 1), None)
