"""A granted tap costs at most four SQL statements (pretix keeps its redeem endpoint on a
query budget the same way): the database round trips set the pace of a gate."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    CardFactory,
    EntitlementFactory,
    PassFactory,
    post_tap,
    reader_with_token,
    sun_url,
)

# No test-wide transaction: the tap's own atomic block is then a real transaction (BEGIN and
# COMMIT, which are not statements of the tap) rather than a savepoint inside the test's.
pytestmark = pytest.mark.django_db(transaction=True)

SQL_BUDGET = 4
# Transaction framing is not counted: the reference "least work a tap can do" (one SELECT and
# one INSERT in a transaction) pays it too.
FRAMING = {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"}


@pytest.mark.parametrize("entitlement", [EntitlementFactory, PassFactory], ids=["book", "pass"])
def test_a_granted_tap_stays_within_the_sql_budget(client, entitlement):
    _reader, token = reader_with_token()
    card = CardFactory()
    entitlement(holder=card.holder)
    # The first request of a reader warms its cache and its once-a-minute heartbeat.
    assert post_tap(client, token, credential=sun_url(card, 1)).json()["granted"]
    with CaptureQueriesContext(connection) as queries:
        response = post_tap(client, token, credential=sun_url(card, 2))
    assert response.json()["granted"] is True
    statements = [
        q["sql"] for q in queries.captured_queries if q["sql"].split()[0].upper() not in FRAMING
    ]
    assert len(statements) <= SQL_BUDGET, "\n".join(statements)
