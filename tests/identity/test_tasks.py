"""Background work goes through Django's tasks API into the database queue that `make run`'s
worker (django-tasks-db's db_worker) consumes: nothing else to run in the embedded default."""

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from identity.tasks import send_email

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_queue(settings):
    # django-tasks rebuilds its backends when the setting changes (its setting_changed hook).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_an_account_mail_is_queued_then_sent_by_the_worker(database_queue):
    send_email.enqueue(subject="Bienvenue", body="…", to=["camille@example.org"])
    assert DBTaskResult.objects.count() == 1
    assert mail.outbox == []  # nothing sent inside the request
    call_command("db_worker", batch=True, no_startup_delay=True, reload=False, verbosity=0)
    assert [m.subject for m in mail.outbox] == ["Bienvenue"]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
