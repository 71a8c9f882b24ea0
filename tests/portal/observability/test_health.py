"""The probes: /healthz says the process answers, /readyz whether it can serve, in check names
and states only."""

from datetime import timedelta

import pytest
from django.db import OperationalError, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from card.tasks import expire_cards
from portal.observability import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_asking_anything_else(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_names_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "storage": "ok", "tasks": "ok", "cache": "ok"},
    }


def test_a_database_that_does_not_answer_is_a_503(client, monkeypatch):
    def broken():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error"
    assert "refused" not in response.content.decode()  # the error goes to the log only


def test_a_vault_folder_that_is_not_there_is_a_503(client, settings, tmp_path):
    folder = tmp_path / "unmounted"  # the disk of the safe did not come up
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder, "base_url": None},
        },
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "error"


def test_a_task_waiting_too_long_means_the_worker_is_not_keeping_up(client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.SESAME_READY_MAX_TASK_LAG_SECONDS = 60
    result = expire_cards.enqueue()
    assert client.get("/readyz").json()["checks"]["tasks"] == "ok"
    DBTaskResult.objects.filter(id=result.id).update(
        enqueued_at=timezone.now() - timedelta(seconds=61)
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["tasks"] == "late"


def test_without_the_cache_it_is_degraded_but_still_serves(client, monkeypatch):
    def refused(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(health.cache, "set", refused)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"] == "error"
