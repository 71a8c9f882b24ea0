"""What the pools actions ask to be done in the background, once their transaction commits.

The tasks (`services.pools.tasks`) run actions, so the actions cannot import the tasks back
without a cycle: an action sends this signal and the tasks module, connected when the app is
ready (`PoolsConfig.ready`), queues the task (the pattern of `payments.signals`). A hold whose
expiry is never queued still stops counting at its time (`queries.live_bookings`)."""

from django.dispatch import Signal

# booking: a place was held; the sweep is to run when the hold expires.
hold_taken = Signal()
