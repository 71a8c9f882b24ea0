"""Rate limits for Sésame's own views and API routes: one decorator, `rate_limited`, that any
page or django-ninja operation of any floor can wear (it lives on the lowest floor for that).

allauth limits its own views (login, sign-up, password reset: `ACCOUNT_RATE_LIMITS` in the
settings); this is the one mechanism for the rest. Both count in Django's default cache: Redis
when `REDIS_URL` is set, shared by every process; otherwise the local-memory cache, counted per
process. A refusal is a 429 with `Retry-After`: a French page, or under /api/ the JSON body
`{"code": "rate_limited", "message", "field": null}`.

Counting is a fixed window per (limit, client address or account): the first request of a
window creates its counter (`cache.add`), the others increment it (`cache.incr`, atomic in
Redis). If the cache cannot be reached, requests are let through and the fault is logged:
a rate limit must never take the site down with it."""

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from allauth.account.adapter import get_adapter
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# What a cache that cannot be reached raises (Redis down, its socket refused).
CACHE_FAULTS = (RedisError, ConnectionError, OSError)


@dataclass(frozen=True)
class Rate:
    """`amount` requests per `seconds`, written like allauth's rates: "30/m", "5/15m", "100/h"."""

    amount: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        amount, _slash, period = text.partition("/")
        number, unit = period[:-1], period[-1:]
        if not amount.isdigit() or unit not in UNITS or (number and not number.isdigit()):
            raise ValueError(f"Not a rate: {text!r} (write it like 30/m or 5/15m).")
        return cls(int(amount), int(number or 1) * UNITS[unit])


def client_address(request: HttpRequest) -> str:
    """The client's address as allauth reads it for its own limits (one reading for both:
    `ALLAUTH_TRUSTED_PROXY_COUNT` / `ALLAUTH_TRUSTED_CLIENT_IP_HEADER` behind a proxy)."""
    return get_adapter().get_client_ip(request)


def _signed_in_account(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else None


@dataclass(frozen=True)
class Refusal:
    retry_after: int


def _count(name: str, who: str, rate: Rate, now: float) -> Refusal | None:
    window = int(now // rate.seconds)
    digest = hashlib.sha256(who.encode()).hexdigest()[:32]
    key = f"sesame:rl:{name}:{rate.amount}/{rate.seconds}:{digest}:{window}"
    if cache.add(key, 1, timeout=rate.seconds + 1):
        return None
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this request opens a new count
        cache.add(key, 1, timeout=rate.seconds + 1)
        return None
    if count <= rate.amount:
        return None
    return Refusal(retry_after=max(1, math.ceil((window + 1) * rate.seconds - now)))


def check(
    request: HttpRequest,
    *,
    name: str,
    per_address: str | None = None,
    per_account: str | None = None,
    account: str | None = None,
) -> Refusal | None:
    """Count this request against the limits named `name`; a `Refusal` once one is exceeded.
    `account` is whom the request concerns (a signed-in account's id, an email typed in a form);
    without one, only the address is counted."""
    now = time.time()
    counted = []
    if per_address:
        counted.append(("address", client_address(request), Rate.parse(per_address)))
    if per_account and account:
        counted.append(("account", account.strip().lower(), Rate.parse(per_account)))
    refusals = []
    try:
        for kind, who, rate in counted:
            refusal = _count(f"{name}:{kind}", who, rate, now)
            if refusal is not None:
                refusals.append(refusal)
    except CACHE_FAULTS:  # the cache is down: let the request through, say so in the log
        logger.exception("rate limit %s not counted: the cache could not be reached", name)
        return None
    if not refusals:
        return None
    return Refusal(retry_after=max(refusal.retry_after for refusal in refusals))


def too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    """The 429 of every limit (allauth's too, through `handler429`)."""
    minutes = max(1, math.ceil(retry_after / 60))
    message = _("Too many attempts in a short time. Try again in %(minutes)s minute(s).") % {
        "minutes": minutes
    }
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"code": "rate_limited", "message": message, "field": None}, status=429
        )
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(
    name: str,
    *,
    per_address: str | None = None,
    per_account: str | None = None,
    account: Callable[[HttpRequest], str | None] = _signed_in_account,
    methods: frozenset[str] | None = None,
):
    """Limit a view or a django-ninja operation (put it under the router's decorator):

        @router.get("/schools/catchment", auth=None)
        @rate_limited("schools.catchment", per_address="60/m")
        def catchment(request, ...): ...

    `per_address` and `per_account` are rates ("30/m", "5/15m"); `account` finds whom the
    request concerns (by default the signed-in account); `methods` limits only those methods
    (all by default). Names are dotted like audit codes, `app.what`."""
    if not per_address and not per_account:
        raise ValueError("rate_limited needs per_address, per_account or both.")
    for rate in (per_address, per_account):  # a typo fails at import, not at request time
        if rate:
            Rate.parse(rate)

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if methods is None or request.method in methods:
                refusal = check(
                    request,
                    name=name,
                    per_address=per_address,
                    per_account=per_account,
                    account=account(request) if per_account else None,
                )
                if refusal is not None:
                    return too_many_requests(request, retry_after=refusal.retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def allauth_429(request: HttpRequest) -> HttpResponse:
    """`handler429` of the root URLconf: allauth answers its own limits through it. Its rates
    are per minute (ACCOUNT_RATE_LIMITS), hence a minute to wait."""
    return too_many_requests(request, retry_after=60)
