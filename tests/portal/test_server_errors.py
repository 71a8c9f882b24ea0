"""What an error no view handled becomes: the database out of reach is a 503 asking to retry
(JSON under /api/), anything else the 500 page. The whole journey, PostgreSQL restarted under
load, is tests/portal/test_database_restart.py."""

import json

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from portal.server_errors import server_error


def _answer(path: str, error: Exception):
    try:
        raise error
    except Exception:  # noqa: BLE001 - Django calls the handler inside its except block
        return server_error(RequestFactory().get(path))


@pytest.mark.parametrize("path", ["/mon-espace/", "/api/v1/taps"])
def test_the_database_out_of_reach_is_a_503_asking_to_retry(path):
    response = _answer(path, OperationalError("the database system is shutting down"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    if path.startswith("/api/"):
        assert json.loads(response.content)["code"] == "service_unavailable"
    else:
        page = response.content.decode()
        assert "Service momentanément indisponible" in page
        assert "shutting down" not in page


def test_any_other_error_is_the_500_page():
    response = _answer("/mon-espace/", ZeroDivisionError())
    assert response.status_code == 500
