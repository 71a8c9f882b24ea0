"""Notifications to account holders: email always, SMS where they opted in, delivered by
background tasks with retries, each message's status kept.

    from identity.notifications import notify

The caller renders and translates the texts; `notify` writes the rows inside the caller's
transaction and queues delivery once it commits."""

from .sending import notify, notify_household

__all__ = ["notify", "notify_household"]
