"""What the school calendar tells the services above it, which identity cannot import."""

from django.dispatch import Signal

# A school (every school when `closure.school` is None) closed for `closure.day`, even late: sent
# inside close_school's transaction with `closure` and `actor`, so that what a receiver writes
# (the canteen refunds the day's prepaid meals) commits or rolls back with the closure.
school_closed = Signal()
