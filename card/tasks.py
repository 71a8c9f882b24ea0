"""Background work of the card floor (the django-tasks API)."""

from django_tasks import task

from .actions import lifecycle


@task()
def expire_cards() -> int:
    """Cards past their expiry date become expired. Run nightly (`manage.py expire_cards`
    from cron enqueues it); gates already refuse them from the day after expiry."""
    return lifecycle.expire_cards()
