from datetime import date

import pytest
import time_machine

from tests.factories import ResidentFactory


@pytest.fixture
def on_25_november_2026():
    """Today is Wednesday 25 November 2026, all test long."""
    with time_machine.travel(date(2026, 11, 25), tick=False):
        yield


@pytest.fixture
def camille():
    """A resident whose first name was mistyped ("Camile"): the one clerks correct."""
    return ResidentFactory(first_name="Camile", last_name="Martin", birth_date=date(1986, 4, 12))
