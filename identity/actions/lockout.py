"""Repeated login failures lock an account for a while, and its owner is told by mail.

Failures are counted per login email (lower-cased), whether or not an account has that email,
so that a lock says nothing about which addresses have an account. After
`SESAME_LOGIN_LOCK_FAILURES` failures within `SESAME_LOGIN_FAILURE_WINDOW` seconds, logins with
that email are refused for `SESAME_LOGIN_LOCK_SECONDS`, even with the right password; the
account's owner gets a mail, and the trail an entry. A password reset still works while locked
and lifts the lock (allauth's `password_reset` signal); a successful login clears the count.

The counts and the lock live in Django's default cache (Redis when configured, see
identity.ratelimit), with the lock's own expiry: nothing to clean up."""

import functools
import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from ..models import AuditEntry, User
from ..ratelimit import CACHE_FAULTS
from ..tasks import send_email
from .audit import record_audit_entry

logger = logging.getLogger(__name__)


def _without_cache(default):
    """If the cache cannot be reached, logins go on without the lock (and the log says so):
    the lock must not take the login page down with it."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except CACHE_FAULTS as error:
                logger.error("login lock skipped: the cache could not be reached (%s)", error)
                return default

        return wrapper

    return decorate


def _key(kind: str, email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"sesame:login:{kind}:{digest}"


def _account(email: str) -> User | None:
    return (
        User.objects.select_related("person")
        .filter(email__iexact=email.strip(), is_application=False)
        .first()
    )


@_without_cache(default=0)
def locked_for(*, email: str) -> int:
    """Seconds left on the lock of this login email; 0 when it is not locked."""
    until = cache.get(_key("locked", email))
    return max(0, math.ceil(until - time.time())) if until else 0


@_without_cache(default=False)
def record_login_failure(*, email: str, request: HttpRequest | None = None) -> bool:
    """Count one failed login with this email; lock it when the count reaches the limit.
    True when this failure locked it."""
    if not email:
        return False
    failures_key = _key("failures", email)
    window = settings.SESAME_LOGIN_FAILURE_WINDOW
    if cache.add(failures_key, 1, timeout=window):
        failures = 1
    else:
        try:
            failures = cache.incr(failures_key)
        except ValueError:  # the window closed in between: this failure opens a new one
            cache.add(failures_key, 1, timeout=window)
            failures = 1
    if failures < settings.SESAME_LOGIN_LOCK_FAILURES:
        return False
    seconds = settings.SESAME_LOGIN_LOCK_SECONDS
    if not cache.add(_key("locked", email), time.time() + seconds, timeout=seconds):
        return False  # locked already (another process got there first)
    cache.delete(failures_key)
    account = _account(email)
    if account is not None:
        _tell_the_owner(account, request=request, failures=failures, seconds=seconds)
    logger.info("login locked account=%s", getattr(account, "pk", None))
    return True


def _tell_the_owner(account: User, *, request, failures: int, seconds: int) -> None:
    reset_path = reverse("account_reset_password")
    with translation.override(settings.LANGUAGE_CODE):
        record_audit_entry(
            actor=None,
            action="account.locked",
            person=getattr(account, "person", None),
            target=account.display_name[:120],
            reason=_("%(count)s failed logins") % {"count": failures},
            channel=AuditEntry.Channel.WEB,
        )
        context = {
            "name": account.display_name,
            "failures": failures,
            "minutes": math.ceil(seconds / 60),
            "reset_url": request.build_absolute_uri(reset_path) if request else reset_path,
            "territory_name": settings.SESAME_TERRITORY_NAME,
        }
        subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + _("Your account is locked for a while")
        body = render_to_string("identity/email/account_locked.txt", context)
    send_email.enqueue(subject=subject, body=body, to=[account.email])


@_without_cache(default=None)
def clear_login_failures(*, email: str) -> None:
    """A successful login: the failures before it no longer count."""
    cache.delete(_key("failures", email))


def unlock_after_password_reset(*, account: User) -> None:
    """The owner proved they hold the mailbox: lift the lock of each of their addresses."""
    from allauth.account.models import EmailAddress

    addresses = {
        account.email,
        *EmailAddress.objects.filter(user=account).values_list("email", flat=True),
    }
    was_locked = any(locked_for(email=address) for address in addresses)
    for address in addresses:
        cache.delete_many([_key("locked", address), _key("failures", address)])
    if was_locked:
        with translation.override(settings.LANGUAGE_CODE):
            record_audit_entry(
                actor=account,
                action="account.unlocked",
                person=getattr(account, "person", None),
                target=account.display_name[:120],
                reason=_("Password reset"),
            )
