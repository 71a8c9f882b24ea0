"""schemathesis against the API as it is served: the OpenAPI document read from a live server
(`/api/v1/openapi.json`), then every operation called with data generated from that document,
valid and invalid, as a resident signed in through a session and as a staff application with its
bearer token. No answer may be a 5xx, and every answer must match what the document declares
for its status (body and content type).

Bounded: `SESAME_FUZZ_EXAMPLES` examples per operation and visitor (8 by default, derandomised so
that CI is repeatable; raise it for a deeper run)."""

import os

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from identity import demo
from identity.actions.api_tokens import issue_api_token
from identity.models import Facility, StaffRole, User
from tests.portal.demo_site import load_demo

EXAMPLES = int(os.environ.get("SESAME_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# A CSRF secret of the test's own: session-authenticated writes need the cookie and the header.
CSRF = "f" * 32


def _visitors(live_server) -> dict[str, dict]:
    camille = User.objects.get(email=demo.RESIDENT_EMAIL)
    browser = Client()
    browser.force_login(camille)
    session = browser.cookies["sessionid"].value
    admin = User.objects.get(email=demo.ADMIN_EMAIL)
    library = Facility.objects.get(staff_roles__user__email="bibliotheque@demo.sesame.fr")
    issued = issue_api_token(
        actor=admin,
        name="Logiciel de la médiathèque",
        role=StaffRole.Role.LIBRARIAN,
        facilities=[library],
    )
    return {
        "resident session": {
            "Cookie": f"sessionid={session}; csrftoken={CSRF}",
            "X-CSRFToken": CSRF,
            "Referer": live_server.url + "/",
        },
        "staff token": {"Authorization": f"Bearer {issued.secret}"},
    }


def _fuzz(strategy, *, base_url: str, headers: dict) -> None:
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    call()


@pytest.mark.django_db(transaction=True)
def test_no_operation_answers_a_5xx_or_outside_its_schema(live_server):
    load_demo()
    visitors = _visitors(live_server)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    base_url = live_server.url  # the document's paths start with /api/v1
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | (
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
        )
        for visitor, headers in visitors.items():
            try:
                _fuzz(strategy, base_url=base_url, headers=headers)
            except (Exception, BaseExceptionGroup) as error:  # every operation's, not the first
                failures.append(f"{operation.label} as {visitor}:\n{error}")
    assert not failures, "\n\n".join(failures)


def test_no_two_schemas_of_the_api_share_a_name():
    """The OpenAPI document names each schema by its class: two of the same name would be one
    in the document, and a client would read one operation's answer with the other's fields."""
    from ninja import Schema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {
        cls
        for cls in subclasses(Schema)
        if cls.__module__.split(".")[0]
        in {"portal", "kiosk", "card", "services", "payments", "documents_vault", "identity"}
    }
    names: dict[str, set[str]] = {}
    for cls in ours:
        names.setdefault(cls.__name__, set()).add(cls.__module__)
    shared = {name: modules for name, modules in names.items() if len(modules) > 1}
    # One error shape, written out in each app's API module.
    shared.pop("ErrorOut", None)
    assert not shared, f"API schemas sharing a name: {shared}"
