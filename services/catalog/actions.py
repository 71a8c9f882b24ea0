"""The catalogue's writes: granting entitlements and deciding (and consuming) at a gate, with
the live state of the facilities that count who is inside."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import Facility, Person, User
from identity.permissions import can_act_for, person_of
from payments import queries as payments_queries
from payments.actions.basket import add_to_basket
from payments.actions.orders import LineInput, create_order
from payments.actions.wallets import spend_from_wallet
from payments.errors import InsufficientFunds
from payments.models import Channel, Regie

from . import eligibility
from .models import AccessPoint, Entitlement, FacilityOccupancy, Presence, Product
from .queries import FacilityRules, facility_rules
from .tariffs import PriceQuote, quote

# Facilities whose desks identify a resident rather than check an entitlement.
IDENTIFYING_DESK_KINDS = frozenset({Facility.Kind.TOWN_HALL})


@dataclass(frozen=True)
class AccessDecision:
    """What `decide` answers. `reason` is a stable code readers and staff screens rely on."""

    granted: bool
    reason: str
    entitlement_id: str | None = None
    label: str = ""
    consumed: int = 0
    remaining: int | None = None
    valid_until: date | None = None
    # Paid from the wallet at the gate (pay-per-entry): the amount, in cents.
    charged_cents: int = 0

    def as_dict(self) -> dict:
        answer = {
            "entitlement": self.entitlement_id,
            "label": self.label,
            "consumed": self.consumed,
            "remaining": self.remaining,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }
        if self.charged_cents:
            answer["charged_cents"] = self.charged_cents
        return answer


@dataclass(frozen=True)
class _Candidate:
    pk: int
    public_id: str
    kind: str
    label: str
    entries_left: int | None
    valid_until: date


def _choose_entitlement(
    *, holder_id: int, facility_id: int, facility_kind: str, day: date
) -> _Candidate | None:
    """The entitlement that applies, row-locked: a pass first, then a booking for that day (at
    this facility, or any of its kind), then the entry book (or quota) that expires first.
    Written as SQL once rather than built by the ORM at every tap: building and compiling the
    equivalent queryset cost ten times the query itself (make bench-taps)."""
    table = Entitlement._meta.db_table
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT id, public_id, kind, label, entries_left, valid_until FROM {table} "  # noqa: S608
        "WHERE holder_id = %s AND facility_kind = %s AND revoked_at IS NULL "
        "AND valid_from <= %s AND valid_until >= %s "
        "AND (facility_id IS NULL OR facility_id = %s) "
        "AND (kind IN (%s, %s) OR entries_left > 0) "
        "ORDER BY CASE kind WHEN %s THEN 0 WHEN %s THEN 1 ELSE 2 END, valid_until, id "
        "LIMIT 1" + lock
    )
    passes, bookings = Entitlement.Kind.PASS.value, Entitlement.Kind.BOOKING.value
    params = [holder_id, facility_kind, day, day, facility_id, passes, bookings, passes, bookings]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    valid_until = row[5] if isinstance(row[5], date) else date.fromisoformat(row[5])
    return _Candidate(row[0], row[1], row[2], row[3], row[4], valid_until)


def decide(*, holder_id: int, access_point: AccessPoint, at: datetime) -> AccessDecision:
    """Decide at an access point and consume what applies, inside the caller's transaction.

    At an entrance, in this order: `closed` outside the facility's opening hours (Paris local
    time, the school-holiday schedule during school holidays) or during an exceptional closure;
    then the entitlement that applies, in this documented order:

    1. a season/annual pass or membership valid that day (not consumed);
    2. a booking for that day (a swimming lesson's session day, at this facility or at every
       facility of its kind; not consumed: the lesson is paid);
    3. prepaid entries: the entry book (or quota) with entries left that expires first (one
       entry consumed);
    4. pay-per-entry from the wallet, where the facility's rules name a product for it
       (FacilityAccessRules.pay_per_entry_product): its price on that day (tariffs.quote) is
       spent from the holder's wallet (payments.spend_from_wallet) in this transaction;
       `insufficient_balance` when the wallet cannot pay it;

    `no_entitlement` when none applies; `capacity_reached` when today's occupancy has
    reached the facility's maximum; `already_inside` when the person entered and has not gone
    out within the anti-passback delay. Nothing is consumed or counted when refused.

    An exit always opens (people must be able to leave) and counts the person out; a desk
    checks without consuming and is never closed; a town-hall desk only identifies the person
    (`identified`).

    SQL: the facility's rules come from an in-process cache (queries.facility_rules), so a
    facility without a maximum occupancy nor anti-passback costs what it did before hours
    existed: the choice (row-locked, so two gates never spend the same entry twice) and, for an
    entry book, the decrement. Counting people in adds at most two: the place taken (with a
    maximum occupancy; it row-locks the facility's counter until commit) and the presence
    recorded (docs/cards.md)."""
    facility = access_point.facility
    rules = facility_rules(facility)
    day = timezone.localdate(at, timezone.get_default_timezone())
    # The live state is today's: a queued offline tap from an earlier day is judged on that
    # day's hours and entitlements, but counted neither in nor out.
    live = rules.tracks_presence and day == timezone.localdate(
        timezone=timezone.get_default_timezone()
    )
    if access_point.kind == AccessPoint.Kind.EXIT:
        if live:
            _count_out(holder_id=holder_id, facility_id=facility.pk, rules=rules, day=day)
        return AccessDecision(granted=True, reason="exit")
    if access_point.kind == AccessPoint.Kind.DESK and facility.kind in IDENTIFYING_DESK_KINDS:
        # A town-hall desk sells no entry: the card identifies the resident, for the services
        # that act at that desk (the registry's desk actions: waste-sorting bags…).
        return AccessDecision(granted=True, reason="identified")
    entrance = access_point.kind == AccessPoint.Kind.ENTRANCE
    if entrance and not rules.is_open(at):
        return AccessDecision(granted=False, reason="closed")
    candidate = _choose_entitlement(
        holder_id=holder_id, facility_id=facility.pk, facility_kind=facility.kind, day=day
    )
    if candidate is None:
        if entrance and rules.pay_per_entry_product_id is not None:
            return _pay_per_entry(
                holder_id=holder_id,
                access_point=access_point,
                rules=rules,
                at=at,
                day=day,
                live=live,
            )
        return AccessDecision(granted=False, reason="no_entitlement")
    if entrance and live:
        refusal = _count_in(
            holder_id=holder_id, facility_id=facility.pk, rules=rules, at=at, day=day
        )
        if refusal is not None:
            return AccessDecision(granted=False, reason=refusal)
    consume = candidate.kind == Entitlement.Kind.ENTRIES and entrance
    remaining = candidate.entries_left
    if consume:
        Entitlement.objects.filter(pk=candidate.pk).update(entries_left=F("entries_left") - 1)
        remaining -= 1
    return AccessDecision(
        granted=True,
        reason="granted" if entrance else "valid",
        entitlement_id=candidate.public_id,
        label=candidate.label,
        consumed=1 if consume else 0,
        remaining=remaining,
        valid_until=candidate.valid_until,
    )


# --- Pay-per-entry from the wallet -------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def _pay_per_entry(
    *,
    holder_id: int,
    access_point: AccessPoint,
    rules: FacilityRules,
    at: datetime,
    day: date,
    live: bool,
) -> AccessDecision:
    """No entitlement applies and the facility sells entries at the gate: its product's price
    for this person on the day (the tariff engine) is spent from their wallet, and the person
    counted in, both in a savepoint of decide's transaction: a refusal after the spending (the
    facility full) gives the money back by rolling it back. `insufficient_balance` when the
    wallet cannot pay; `no_entitlement` when the product has no price for them or no régie. The
    answer's `entitlement` is the wallet spending's ledger transaction (what the entry used)."""
    product = Product.objects.get(pk=rules.pay_per_entry_product_id)
    person = Person.objects.select_related("household").get(pk=holder_id)
    try:
        price = quote(product=product, person=person, on=day)
        regie = regie_of(product)
    except DomainError:
        return AccessDecision(granted=False, reason="no_entitlement")
    key = f"entry:{access_point.public_id}:{holder_id}:{at.isoformat()}"[:100]
    spent = None
    try:
        with transaction.atomic():
            if price.price_cents > 0:  # free for this person: nothing to spend
                spent = spend_from_wallet(
                    person_id=holder_id,
                    amount_cents=price.price_cents,
                    regie=regie,
                    reference=f"{product.name} — {access_point}",
                    idempotency_key=key,
                )
            if live:
                refusal = _count_in(
                    holder_id=holder_id,
                    facility_id=access_point.facility_id,
                    rules=rules,
                    at=at,
                    day=day,
                )
                if refusal is not None:
                    raise _Refused(refusal)
    except _Refused as refused:
        return AccessDecision(granted=False, reason=refused.reason)
    except InsufficientFunds:
        return AccessDecision(granted=False, reason="insufficient_balance")
    return AccessDecision(
        granted=True,
        reason="granted",
        entitlement_id=spent.public_id if spent is not None else None,
        label=f"{product.name} ({price.explanation})",
        consumed=1,
        valid_until=day,
        charged_cents=price.price_cents,
    )


# --- Who is inside ---------------------------------------------------------------------------
# Two rows, always taken in the same order (the facility's counter, then the person's presence)
# by entrances and exits alike, so that they cannot deadlock. Services never read card's tap
# log (card is the floor above): the catalogue keeps this state itself, written only here.


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _count_in(
    *, holder_id: int, facility_id: int, rules: FacilityRules, at: datetime, day: date
) -> str | None:
    """Take a place and mark the person inside, or say why not (and then change nothing)."""
    if rules.max_occupancy is not None and not _take_a_place(
        facility_id=facility_id, day=day, limit=rules.max_occupancy
    ):
        # A refusal path may cost a statement more: tell staff it is the same person again.
        inside = rules.anti_passback is not None and (
            Presence.objects.filter(
                facility_id=facility_id,
                holder_id=holder_id,
                entered_at__gte=_start_of(day),
                entered_at__gt=at - rules.anti_passback,
            ).exists()
        )
        return "already_inside" if inside else "capacity_reached"
    if not _mark_inside(holder_id=holder_id, facility_id=facility_id, rules=rules, at=at, day=day):
        if rules.max_occupancy is not None:
            _free_a_place(facility_id=facility_id, day=day)  # the counter row is ours: exact
        return "already_inside"
    return None


def _count_out(*, holder_id: int, facility_id: int, rules: FacilityRules, day: date) -> None:
    """An exit frees the place of a person counted in today. A second tap at the exit, or
    someone who came in yesterday, frees nothing."""
    freed = rules.max_occupancy is not None and _free_a_place(facility_id=facility_id, day=day)
    left = Presence.objects.filter(
        facility_id=facility_id, holder_id=holder_id, entered_at__gte=_start_of(day)
    ).update(entered_at=None)
    if freed and not left:
        FacilityOccupancy.objects.filter(facility_id=facility_id).update(inside=F("inside") + 1)


def _take_a_place(*, facility_id: int, day: date, limit: int) -> bool:
    """One place of today's occupancy, if one is left: a single conditional upsert that
    creates the facility's counter on its first entrance, starts it again from zero on the
    first entrance of a day, and holds its row lock until commit. On PostgreSQL a second
    entrance waits for that lock and then sees the place taken: two gates never give away the
    same last place (tests/services/catalog/test_occupancy_concurrency.py)."""
    if limit <= 0:
        return False
    table = FacilityOccupancy._meta.db_table
    same_day = f"{table}.day = excluded.day"
    sql = (
        f"INSERT INTO {table} (facility_id, day, inside) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (facility_id) DO UPDATE SET "
        f"inside = CASE WHEN {same_day} THEN {table}.inside + 1 ELSE 1 END, day = excluded.day "
        f"WHERE CASE WHEN {same_day} THEN {table}.inside ELSE 0 END < %s RETURNING inside"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [facility_id, connection.ops.adapt_datefield_value(day), limit])
        return cursor.fetchone() is not None


def _free_a_place(*, facility_id: int, day: date) -> bool:
    return bool(
        FacilityOccupancy.objects.filter(facility_id=facility_id, day=day, inside__gt=0).update(
            inside=F("inside") - 1
        )
    )


def _mark_inside(
    *, holder_id: int, facility_id: int, rules: FacilityRules, at: datetime, day: date
) -> bool:
    """Record the person's entrance, unless they are already inside (entered today, within the
    anti-passback delay, and not gone out since): one conditional upsert, atomic on the
    person's presence row."""
    table = Presence._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"INSERT INTO {table} (facility_id, holder_id, entered_at) VALUES (%s, %s, %s) "  # noqa: S608
        "ON CONFLICT (facility_id, holder_id) DO UPDATE SET entered_at = excluded.entered_at"
    )
    params = [facility_id, holder_id, adapt(at)]
    if rules.anti_passback is not None:
        sql += (
            f" WHERE {table}.entered_at IS NULL OR {table}.entered_at < %s"
            f" OR {table}.entered_at <= %s"
        )
        params += [adapt(_start_of(day)), adapt(at - rules.anti_passback)]
    with connection.cursor() as cursor:
        cursor.execute(sql + " RETURNING id", params)
        return cursor.fetchone() is not None


@transaction.atomic
def grant_entitlement(
    *,
    actor: User | None,
    holder: Person,
    kind: str,
    facility_kind: str,
    label: str,
    valid_from: date,
    valid_until: date,
    entries: int | None = None,
    facility: Facility | None = None,
    sale_ref: str | None = None,
    product: Product | None = None,
) -> Entitlement:
    """Give a person a pass, a booking or an entry book (a sale's fulfilment, a staff gesture,
    the demo). With `sale_ref`, at most once per sale: a second call returns the first
    entitlement (the unique column holds it even between two concurrent calls)."""
    if isinstance(valid_from, datetime) or isinstance(valid_until, datetime):
        raise DomainError(_("Give days, not times."), field="valid_from")
    if valid_until < valid_from:
        raise DomainError(_("The end of the period is before its start."), field="valid_until")
    if kind not in Entitlement.Kind.values:
        raise DomainError(_("Unknown kind of entitlement."), field="kind")
    if kind == Entitlement.Kind.ENTRIES and (
        isinstance(entries, bool) or not isinstance(entries, int) or not 0 < entries <= 1000
    ):
        raise DomainError(_("An entry book holds between 1 and 1000 entries."), field="entries")
    if kind != Entitlement.Kind.ENTRIES and entries is not None:
        raise DomainError(_("A pass has no entry count."), field="entries")
    if facility is not None and facility.kind != facility_kind:
        raise DomainError(_("This facility is not of that kind."), field="facility")
    if sale_ref is not None:
        existing = Entitlement.objects.filter(sale_ref=sale_ref).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            entitlement = Entitlement.objects.create(
                holder=holder,
                kind=kind,
                facility_kind=facility_kind,
                facility=facility,
                label=label,
                valid_from=valid_from,
                valid_until=valid_until,
                entries_total=entries,
                entries_left=entries,
                sale_ref=sale_ref,
                product=product,
            )
    except IntegrityError:
        # The same sale fulfilled at the same instant by another process: theirs stands.
        if sale_ref is None:
            raise
        return Entitlement.objects.get(sale_ref=sale_ref)
    record_audit_entry(
        actor=actor,
        action="entitlement.granted",
        person=holder,
        target=f"{label} [{sale_ref}]" if sale_ref else label,
    )
    return entitlement


@transaction.atomic
def revoke_entitlement(
    *, actor: User | None, entitlement: Entitlement, reason: str, at: datetime | None = None
) -> bool:
    """Withdraw an entitlement (a refunded sale, a staff correction): gates refuse it from now.
    Returns False when it was already revoked (nothing changes: idempotent)."""
    at = at or timezone.now()
    revoked = Entitlement.objects.filter(pk=entitlement.pk, revoked_at__isnull=True).update(
        revoked_at=at
    )
    if revoked:
        record_audit_entry(
            actor=actor,
            action="entitlement.revoked",
            person=entitlement.holder,
            target=entitlement.label,
            reason=reason[:200],
        )
    return bool(revoked)


# --- Sales -----------------------------------------------------------------------------------
# A resident buys a product in Mon espace for themself or a child in their care. The price is
# the tariff engine's on the day of the sale; the order goes through payments, which calls the
# catalogue's fulfilment handler (services/catalog/fulfilment.py) once the line is paid: only
# then is the entitlement granted, exactly once per order line (Entitlement.sale_ref), and
# revoked if the line is refunded. A product free for that person (a child's library
# membership) needs no order: it is granted at once.

SALE_HANDLER = "catalog.product"
MAX_UNITS = 10  # single entries and entry books bought at once; passes one at a time
SALE_KINDS = {
    Product.Kind.SINGLE_ENTRY: Entitlement.Kind.ENTRIES,
    Product.Kind.ENTRY_BOOK: Entitlement.Kind.ENTRIES,
    Product.Kind.QUOTA: Entitlement.Kind.ENTRIES,
    Product.Kind.PASS: Entitlement.Kind.PASS,
    Product.Kind.MEMBERSHIP: Entitlement.Kind.PASS,
}


@dataclass(frozen=True)
class Sale:
    """What buy_product did: an order to pay (`order`), or, free, the entitlements granted."""

    order: object | None
    entitlements: tuple[Entitlement, ...] = ()
    price: PriceQuote | None = None


def sale_period(product: Product, day: date) -> tuple[date, date]:
    """The validity of what a product sold on `day` gives: from that day, for its number of
    days (that day included) or until its end of season."""
    if product.season_ends_on is not None:
        return day, product.season_ends_on
    return day, day + timedelta(days=product.validity_days - 1)


def _check_sellable(product: Product, day: date, quantity) -> None:
    if not product.active:
        raise DomainError(_("This product is not on sale."), field="product", code="not_on_sale")
    if product.kind not in SALE_KINDS:
        raise DomainError(_("This product is booked through its own service."), field="product")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise DomainError(_("Buy at least one."), field="quantity")
    if quantity > 1 and SALE_KINDS[product.kind] == Entitlement.Kind.PASS:
        raise DomainError(_("A pass or a membership is bought one at a time."), field="quantity")
    if quantity > MAX_UNITS:
        raise DomainError(_("At most %(max)s at once.") % {"max": MAX_UNITS}, field="quantity")
    if product.season_ends_on is not None and product.season_ends_on < day:
        raise DomainError(
            _("The season of this product is over."), field="product", code="season_over"
        )


def regie_of(product: Product):
    """The régie (payments) collecting this product's sales; DomainError when none is set."""
    regie = Regie.objects.filter(code=product.regie_code).first() if product.regie_code else None
    if regie is None:
        raise DomainError(
            _("%(product)s cannot be paid online yet: no collection office is set for it.")
            % {"product": product.name},
            field="product",
            code="no_regie",
        )
    return regie


def _grant_sold(
    *, product: Product, holder: Person, day: date, sale_ref: str, actor: User | None = None
) -> Entitlement:
    valid_from, valid_until = sale_period(product, day)
    kind = SALE_KINDS[product.kind]
    entries = 1 if product.kind == Product.Kind.SINGLE_ENTRY else product.entries
    return grant_entitlement(
        actor=actor,
        holder=holder,
        kind=kind,
        facility_kind=product.facility_kind,
        label=product.name,
        valid_from=valid_from,
        valid_until=valid_until,
        entries=entries if kind == Entitlement.Kind.ENTRIES else None,
        sale_ref=sale_ref,
        product=product,
    )


def buy_product(
    *,
    actor: User,
    person: Person,
    product: Product,
    quantity: int = 1,
    channel: str = "web",
    idempotency_key: str | None = None,
    on: date | None = None,
) -> Sale:
    """Put a product for `person` (the actor or a child in their care), priced by the tariff
    engine on the day of the sale, in the actor's basket (online) or in an order of its own
    paid at once (kiosk, desk); the entitlement comes when the order is paid. The same
    `idempotency_key` (a form or a kiosk request sent twice) adds or orders once.
    Free for that person: granted at once, once per product, person and day. Refused (a
    DomainError naming the field, nothing created) for someone the actor does not act for, a
    product off sale or without a price, a quantity below 1 or above MAX_UNITS, a person the
    product is not open to on the day (its age range, residency: eligibility.py) or who still
    holds it when it is held once at a time."""
    if not can_act_for(actor, person):
        raise Forbidden(_("You cannot buy for this person."))
    day = on or timezone.localdate()
    _check_sellable(product, day, quantity)
    free_ref = f"free:{product.code}:{person.public_id}:{day.isoformat()}"
    eligibility.check_can_buy(product, person, on=day, repeating=free_ref)
    price = quote(product=product, person=person, on=day)
    if price.price_cents == 0:
        granted = _grant_sold(
            product=product, holder=person, day=day, actor=actor, sale_ref=free_ref
        )
        return Sale(order=None, entitlements=(granted,), price=price)
    line = LineInput(
        regie=regie_of(product),
        label=product.name,  # payments shows the beneficiary beside it
        handler=SALE_HANDLER,
        unit_price_cents=price.price_cents,
        quantity=quantity,
        explanation=price.explanation,
        payload={
            "product": product.code,
            "sale_day": day.isoformat(),
            "grid": price.grid_id,
            "tariff_line": price.line_id,
        },
        beneficiary=person,
    )
    if channel == Channel.WEB:  # online, purchases gather in the buyer's basket
        _check_not_in_basket(actor, person, product, idempotency_key=idempotency_key)
        order = add_to_basket(buyer=actor, lines=[line], idempotency_key=idempotency_key)
    else:  # a kiosk or a desk pays at once: an order of its own
        order = create_order(
            buyer=actor,
            payer=person_of(actor),
            lines=[line],
            channel=channel,
            idempotency_key=idempotency_key,
        )
    return Sale(order=order, price=price)


def _check_not_in_basket(
    actor: User, person: Person, product: Product, *, idempotency_key: str | None
) -> None:
    """A product held once at a time is in the basket once per person (two lines paid would
    give two). The same form sent again (its key) is no second line: add_to_basket answers it."""
    if not product.cannot_be_held_twice:
        return
    if idempotency_key and payments_queries.basket_addition(
        buyer=actor, idempotency_key=idempotency_key
    ):
        return
    basket = payments_queries.basket_of(actor)
    if basket is not None and any(
        line.handler == SALE_HANDLER
        and line.beneficiary_id == person.pk
        and line.payload.get("product") == product.code
        for line in basket.lines.all()
    ):
        raise Conflict(
            _("%(product)s for %(name)s is already in your basket.")
            % {"product": product.name, "name": person.first_name},
            field="product",
            code="already_in_basket",
        )


def sale_ref_of_line(line_pk: int, unit: int) -> str:
    return f"payments.line:{line_pk}:{unit}"


def fulfil_product_sale(line) -> list[Entitlement]:
    """An order line of a product is paid: one entitlement per unit for its beneficiary, valid
    from the day it was paid. Exactly once: a second call finds them by their sale reference."""
    product = Product.objects.get(code=line.payload["product"])
    paid_at = getattr(line.order, "paid_at", None) or timezone.now()
    day = timezone.localdate(paid_at)
    return [
        _grant_sold(
            product=product,
            holder=line.beneficiary,
            day=day,
            sale_ref=sale_ref_of_line(line.pk, unit),
        )
        for unit in range(line.quantity)
    ]


def undo_product_sale(line) -> int:
    """An order line of a product is refunded: its entitlements are revoked (what was used of
    an entry book before is not given back). Idempotent. Returns how many were revoked."""
    revoked = 0
    for entitlement in Entitlement.objects.filter(sale_ref__startswith=f"payments.line:{line.pk}:"):
        revoked += revoke_entitlement(actor=None, entitlement=entitlement, reason="refund")
    return revoked
