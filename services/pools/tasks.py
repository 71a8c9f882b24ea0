"""Background work of the pools service (the django-tasks API)."""

from django_tasks import task

from . import actions


@task()
def release_expired_holds() -> int:
    """The sweeper: holds not paid in time become `expired`. Enqueued at each hold's expiry
    where the backend can defer (the database worker); a hold past its time never counts
    anyway (queries.live_bookings), so a late sweep frees nothing too late."""
    return actions.release_expired_holds()


def schedule_hold_expiry(booking) -> None:
    """Enqueue the sweep for the moment this hold expires, when the task backend can wait."""
    if release_expired_holds.get_backend().supports_defer:
        release_expired_holds.using(run_after=booking.held_until).enqueue()
