"""Background work of the pools service (the django-tasks API)."""

from django.dispatch import receiver
from django_tasks import task

from . import actions, signals


@task()
def release_expired_holds() -> int:
    """The sweeper: holds not paid in time become `expired`. Enqueued at each hold's expiry
    where the backend can defer (the database worker); a hold past its time never counts
    anyway (queries.live_bookings), so a late sweep frees nothing too late."""
    return actions.release_expired_holds()


@receiver(signals.hold_taken, dispatch_uid="pools.tasks.schedule_hold_expiry")
def schedule_hold_expiry(sender, *, booking, **kwargs) -> None:
    """Enqueue the sweep for the moment this hold expires, when the task backend can wait."""
    if release_expired_holds.get_backend().supports_defer:
        release_expired_holds.using(run_after=booking.held_until).enqueue()
