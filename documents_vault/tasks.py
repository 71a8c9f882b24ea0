"""Background work of the document safe (the django-tasks API); cron runs the same through
`manage.py vault_sweep` and `manage.py vault_expiry_reminders`."""

from django_tasks import task

from .actions import maintenance


@task()
def sweep_orphans_task() -> int:
    """Remove stored objects that no file version names (a crash mid-upload)."""
    return maintenance.sweep_orphans()


@task()
def send_expiry_reminders_task() -> int:
    """Mail households about documents expiring within 30 days (once per expiry date)."""
    return maintenance.send_expiry_reminders()
