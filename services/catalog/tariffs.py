"""The one tariff engine of the territory: every price shown or charged comes from `quote`, with
an explanation the resident can read ("Tarif résident, enfant, QF 2"), and every price change
goes through `publish_tariff_grid` (the admin calls it too, and `withdraw_tariff_grid`).

How a price is chosen (`quote`), for a product, a person and a day:

1. The grid in force that day (at most one per product, see below); none → DomainError.
2. The person's facts on that day, as the territory's trust rules take them (identity.trust:
   what lowers a price is applied as the town chose, and what a clerk verified always wins):
   - residency: the household's address in force that day is in a member commune of the
     territory and is trusted (identity.trust.is_resident_on); no address known →
     non-resident;
   - age bracket, on that day: child under CHILD_UNTIL (18), senior from SENIOR_FROM (65),
     adult in between;
   - family-quotient bracket: the household's trusted quotient that day
     (identity.trust.family_quotient_on: the verified one, else a declaration the rule lets
     apply) placed in the territory's QuotientBracket table in force that day; none → no
     bracket: only lines for any bracket apply. The explanation says "QF verified" (or "QF
     declared") beside a line naming a bracket;
   - reduced-rate categories verified by a clerk and valid that day
     (identity.queries.reduced_categories_on).
3. A line matches when each of its four criteria is `any` or equals the person's fact. Its
   reduced category matches in one of the person's "cases": the case without a reduced rate
   (lines `none` or `any`) and one case per category the person holds (lines of that category
   or `any`).
4. In each case, the MOST SPECIFIC matching line wins: the one naming the most criteria; on a
   tie, the one naming the reduced category, then the family-quotient bracket, then the age
   bracket, then the residency (in that order); lines naming the same criteria cannot coexist
   in a grid.
5. Between the cases, the CHEAPEST winner is charged: a person holding several reduced-rate
   categories pays the cheapest of their reduced rates, and a reduced-rate status never makes
   anyone pay more than without it. A tie keeps the case without a reduced rate, then the
   categories in the order of ReducedRateStatus.Category.

Grids (`publish_tariff_grid`): a grid is never edited once its first day has come (sales may
have used it); a change is a new grid from a future day. Publishing it closes the grid in force
without an end on the day before; any other overlap is refused.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from identity import queries as identity_queries
from identity import trust
from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.models import Person, ReducedRateStatus, User
from identity.permissions import Capability, has_capability

from .models import Product, QuotientBracket, TariffGrid, TariffLine

CHILD_UNTIL = 18  # a child is under 18 on the day of the sale
SENIOR_FROM = 65  # a senior is 65 or older on the day of the sale
MAX_PRICE_CENTS = 100_000_00  # 100 000 €: rejects typing slips

ANY = TariffLine.ANY
Residency = TariffLine.Residency
AgeBracket = TariffLine.AgeBracket
ReducedCategory = TariffLine.ReducedCategory


# --- The person's facts on a day ------------------------------------------------------------


@dataclass(frozen=True)
class TariffFacts:
    """What the tariff engine knows of a person on a day."""

    residency: str
    age_bracket: str
    qf_bracket: int | None
    reduced_categories: frozenset[str] = field(default_factory=frozenset)
    qf_verified: bool = False  # the quotient placed in the bracket was verified by a clerk


def age_bracket_on(person: Person, day: date) -> str:
    age = person.age_on(day)
    if age < CHILD_UNTIL:
        return AgeBracket.CHILD
    if age >= SENIOR_FROM:
        return AgeBracket.SENIOR
    return AgeBracket.ADULT


def quotient_bracket_on(amount: int, day: date) -> QuotientBracket | None:
    """The bracket holding a family quotient (euros) in the table in force on a day."""
    table_start = (
        QuotientBracket.objects.filter(valid_from__lte=day)
        .order_by("-valid_from")
        .values_list("valid_from", flat=True)
        .first()
    )
    if table_start is None:
        return None
    return (
        QuotientBracket.objects.filter(valid_from=table_start)
        .filter(Q(max_amount__gte=amount) | Q(max_amount__isnull=True))
        .order_by("number")
        .first()
    )


def facts_on(person: Person, day: date) -> TariffFacts:
    household = person.household
    quotient = trust.family_quotient_on(household, day)
    bracket = quotient_bracket_on(quotient.amount, day) if quotient is not None else None
    return TariffFacts(
        residency=(
            Residency.RESIDENT if trust.is_resident_on(household, day) else Residency.NON_RESIDENT
        ),
        age_bracket=age_bracket_on(person, day),
        qf_bracket=bracket.number if bracket is not None else None,
        reduced_categories=frozenset(identity_queries.reduced_categories_on(person, day)),
        qf_verified=quotient is not None and quotient.verified,
    )


# --- Choosing the line ----------------------------------------------------------------------


@dataclass(frozen=True)
class PriceQuote:
    price_cents: int
    grid_id: int
    line_id: int
    explanation: str


def grid_in_force(product: Product, day: date) -> TariffGrid | None:
    return (
        product.grids.filter(valid_from__lte=day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .order_by("-valid_from")
        .first()
    )


def _specificity(line: TariffLine) -> tuple:
    named = (
        line.reduced_category != ANY,
        line.qf_bracket is not None,
        line.age_bracket != ANY,
        line.residency != ANY,
    )
    return (sum(named), *named)


def _matches(line: TariffLine, facts: TariffFacts, category: str) -> bool:
    return (
        line.residency in (ANY, facts.residency)
        and line.age_bracket in (ANY, facts.age_bracket)
        and (line.qf_bracket is None or line.qf_bracket == facts.qf_bracket)
        and line.reduced_category in (ANY, category)
    )


def choose_line(lines: list[TariffLine], facts: TariffFacts) -> TariffLine | None:
    """The line charged to a person with these facts (the rule is in the module docstring)."""
    cases = [ReducedCategory.NONE] + [
        category
        for category in ReducedRateStatus.Category.values
        if category in facts.reduced_categories
    ]
    winners = []
    for category in cases:
        matching = [line for line in lines if _matches(line, facts, category)]
        if matching:
            winners.append(max(matching, key=_specificity))
    # min keeps the first of equal prices: the case without a reduced rate comes first.
    return min(winners, key=lambda line: line.price_cents, default=None)


def explain(line: TariffLine, facts: TariffFacts | None = None) -> str:
    """What the resident reads beside the price, from the criteria of the line charged (and,
    for a family-quotient line, whether that quotient was verified)."""
    parts = []
    if line.age_bracket == AgeBracket.CHILD:
        parts.append(_("child"))
    elif line.age_bracket == AgeBracket.ADULT:
        parts.append(_("adult"))
    elif line.age_bracket == AgeBracket.SENIOR:
        parts.append(_("senior"))
    if line.qf_bracket is not None:
        parts.append(_("QF %(number)s") % {"number": line.qf_bracket})
        if facts is not None:
            parts.append(_("QF verified") if facts.qf_verified else _("QF declared"))
    if line.reduced_category == ReducedCategory.STUDENT:
        parts.append(_("student"))
    elif line.reduced_category == ReducedCategory.JOB_SEEKER:
        parts.append(_("job seeker"))
    elif line.reduced_category == ReducedCategory.DISABILITY:
        parts.append(_("disability"))
    if line.price_cents == 0:
        parts.append(_("free"))
    if line.residency == Residency.RESIDENT:
        head = _("Resident rate")
    elif line.residency == Residency.NON_RESIDENT:
        head = _("Non-resident rate")
    elif parts:
        head = _("Rate")
    else:
        head = _("Full rate")
    return ", ".join([head, *parts])


def quote(*, product: Product, person: Person, on: date) -> PriceQuote:
    """The price of a product for a person on a day, and why. Raises DomainError (never a 500)
    when the product has no grid in force that day or no line of it applies to the person."""
    grid = grid_in_force(product, on)
    if grid is None:
        raise DomainError(
            _("%(product)s has no price on %(date)s.")
            % {"product": product.name, "date": on.strftime("%d/%m/%Y")},
            code="no_tariff",
        )
    facts = facts_on(person, on)
    line = choose_line(list(grid.lines.all()), facts)
    if line is None:
        raise DomainError(
            _("%(product)s has no price for this person on %(date)s.")
            % {"product": product.name, "date": on.strftime("%d/%m/%Y")},
            code="no_tariff",
        )
    return PriceQuote(
        price_cents=line.price_cents,
        grid_id=grid.pk,
        line_id=line.pk,
        explanation=explain(line, facts),
    )


# --- Publishing a grid ----------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    price_cents: int
    residency: str = ANY
    age_bracket: str = ANY
    qf_bracket: int | None = None
    reduced_category: str = ANY


def check_lines(lines: list[LineInput]) -> None:
    if not lines:
        raise DomainError(_("A tariff grid has at least one line."), field="lines")
    seen = set()
    for line in lines:
        if line.price_cents < 0:
            raise DomainError(_("A price cannot be negative."), field="price_cents")
        if line.price_cents > MAX_PRICE_CENTS:
            raise DomainError(_("This price is too high."), field="price_cents")
        if (
            line.residency not in Residency.values
            or line.age_bracket not in AgeBracket.values
            or line.reduced_category not in ReducedCategory.values
            or (line.qf_bracket is not None and line.qf_bracket < 1)
        ):
            raise DomainError(_("Unknown tariff criterion."), field="lines")
        criteria = (line.residency, line.age_bracket, line.qf_bracket, line.reduced_category)
        if criteria in seen:
            raise DomainError(_("Two lines of the grid name the same criteria."), field="lines")
        seen.add(criteria)


def check_grid_period(
    *,
    product: Product,
    valid_from: date,
    valid_until: date | None,
    today: date,
    historical: bool = False,
    grid: TariffGrid | None = None,
) -> TariffGrid | None:
    """Refuse a period that starts in the past (unless `historical`) or overlaps another grid
    of the product; returns the grid in force without an end that the new one closes, if any.
    `grid`: the grid being edited (before its first day), left out of the comparison."""
    if valid_until is not None and valid_until < valid_from:
        raise DomainError(_("The end of the period is before its start."), field="valid_until")
    if valid_from < today and not historical:
        raise DomainError(
            _("A tariff grid starts today at the earliest: the past keeps its prices."),
            field="valid_from",
        )
    others = product.grids.exclude(pk=grid.pk) if grid is not None else product.grids.all()
    to_close = None
    for other in others.order_by("valid_from"):
        other_end = other.valid_until or date.max
        new_end = valid_until or date.max
        if other.valid_from > new_end or other_end < valid_from:
            continue
        if other.valid_until is None and other.valid_from < valid_from:
            to_close = other  # the grid in force until now: it ends the day before
            continue
        raise DomainError(
            _("Another grid of this product is in force from %(start)s.")
            % {"start": other.valid_from.strftime("%d/%m/%Y")},
            field="valid_from",
            code="overlap",
        )
    if to_close is not None and valid_from <= today and not historical:
        raise DomainError(
            _("A price change takes effect tomorrow at the earliest: today's sales keep theirs."),
            field="valid_from",
        )
    return to_close


@transaction.atomic
def publish_tariff_grid(
    *,
    actor: User | None,
    product: Product,
    valid_from: date,
    lines: list[LineInput],
    valid_until: date | None = None,
    historical: bool = False,
    grid: TariffGrid | None = None,
) -> TariffGrid:
    """Publish the prices of a product from a day: an administrator, or the system (`actor`
    None: the demo, an import). `historical` records a grid that was already in force before
    Sésame knew it (system only); otherwise a grid starts today at the earliest. The grid in
    force without an end is closed the day before; any other overlap is refused.

    `grid`: a published grid whose first day has not come yet, revised (its period and lines
    replaced); a grid whose first day has come is never changed."""
    if actor is not None and not has_capability(actor, Capability.MANAGE_TERRITORY):
        raise Forbidden(_("Only an administrator publishes prices."))
    if historical and actor is not None:
        raise Forbidden(_("Only the system records past prices."))
    check_lines(lines)
    product = Product.objects.select_for_update().get(pk=product.pk)  # one publication at a time
    today = timezone.localdate()
    if grid is not None:
        grid = _future_grid(product, grid, today)
        _reopen_the_grid_closed_by(product, grid)  # closed again below, from the new first day
    to_close = check_grid_period(
        product=product,
        valid_from=valid_from,
        valid_until=valid_until,
        today=today,
        historical=historical,
        grid=grid,
    )
    if to_close is not None:
        to_close.valid_until = valid_from - timedelta(days=1)
        to_close.ended_by_successor = True
        to_close.save(update_fields=["valid_until", "ended_by_successor"])
    if grid is None:
        grid = TariffGrid.objects.create(
            product=product, valid_from=valid_from, valid_until=valid_until
        )
    else:
        grid.valid_from, grid.valid_until = valid_from, valid_until
        grid.published_at = timezone.now()
        grid.save(update_fields=["valid_from", "valid_until", "published_at"])
        grid.lines.all().delete()
    TariffLine.objects.bulk_create(
        TariffLine(
            grid=grid,
            residency=line.residency,
            age_bracket=line.age_bracket,
            qf_bracket=line.qf_bracket,
            reduced_category=line.reduced_category,
            price_cents=line.price_cents,
        )
        for line in lines
    )
    record_audit_entry(
        actor=actor,
        action="tariff.grid_published",
        target=grid_target(product, valid_from),
        channel="system" if actor is None else "web",
    )
    return grid


def _reopen_the_grid_closed_by(product: Product, grid: TariffGrid) -> None:
    """Undo what publishing `grid` (not started yet) did to the grid before it: that one runs
    again up to the next other grid, or with no end. Called under the product's lock, before
    `grid` is withdrawn or moved."""
    closed = product.grids.filter(
        valid_until=grid.valid_from - timedelta(days=1), ended_by_successor=True
    ).first()
    if closed is None:
        return
    next_grid = (
        product.grids.exclude(pk=grid.pk)
        .filter(valid_from__gt=closed.valid_from)
        .order_by("valid_from")
        .first()
    )
    closed.valid_until = None if next_grid is None else next_grid.valid_from - timedelta(days=1)
    closed.ended_by_successor = next_grid is not None
    closed.save(update_fields=["valid_until", "ended_by_successor"])


def grid_target(product: Product, valid_from: date) -> str:
    """A grid as its audit entries name it: the product's name (what the trail shows) and
    its first day."""
    return f"{product.name[:100]}@{valid_from.isoformat()}"


def _future_grid(product: Product, grid: TariffGrid, today: date) -> TariffGrid:
    """The grid of `product` read again under the product's lock, refused once started."""
    grid = product.grids.filter(pk=grid.pk).first()
    if grid is None:
        raise DomainError(_("This tariff grid is not one of the product's."), field="product")
    if grid.has_started(today):
        raise DomainError(
            _("This grid is in force since %(start)s: a price change is a new grid.")
            % {"start": grid.valid_from.strftime("%d/%m/%Y")},
            field="valid_from",
        )
    return grid


@transaction.atomic
def withdraw_tariff_grid(*, actor: User, grid: TariffGrid) -> None:
    """An administrator withdraws a grid whose first day has not come yet (a grid in force is
    kept: sales may have used it). The grid its publication closed is open again, up to the
    next grid if there is one, so the product keeps a price; an end the administrator chose
    stays."""
    if not has_capability(actor, Capability.MANAGE_TERRITORY):
        raise Forbidden(_("Only an administrator publishes prices."))
    product = Product.objects.select_for_update().get(pk=grid.product_id)
    grid = _future_grid(product, grid, timezone.localdate())
    target = grid_target(product, grid.valid_from)
    _reopen_the_grid_closed_by(product, grid)
    grid.delete()
    record_audit_entry(actor=actor, action="tariff.grid_withdrawn", target=target)
