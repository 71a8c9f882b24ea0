"""Who may buy a product: its age range and residency, on the day that counts (the first
session of lessons, the day of the sale otherwise), and whether the person already holds it
when it is held once at a time (a membership, a season pass still valid).

The offers (Mon espace, the kiosk, the lessons page) list a product only for the people it is
open to, and the sale actions refuse the others with the reason (`check_can_buy`): hiding is
not enough, a form can be sent by hand."""

from datetime import date

from django.utils.translation import gettext as _

from identity import trust
from identity.errors import Conflict, DomainError
from identity.models import Person

from .models import Entitlement, Product


def refusal(product: Product, person: Person, *, on: date) -> str | None:
    """Why `person` cannot have `product` on `on` (its age range, residency), or None."""
    age = person.age_on(on)
    if product.min_age is not None and age < product.min_age:
        return _("%(product)s is for people aged %(min)s and over: %(name)s is %(age)s.") % {
            "product": product.name,
            "min": product.min_age,
            "name": person.first_name,
            "age": age,
        }
    if product.max_age is not None and age > product.max_age:
        return _("%(product)s is for people up to %(max)s years old: %(name)s is %(age)s.") % {
            "product": product.name,
            "max": product.max_age,
            "name": person.first_name,
            "age": age,
        }
    if product.residents_only and not trust.is_resident_on(person.household, on):
        return _(
            "%(product)s is for residents of the territory: %(name)s's household does not live "
            "in it on %(date)s."
        ) % {"product": product.name, "name": person.first_name, "date": on.strftime("%d/%m/%Y")}
    return None


def held(product: Product, person: Person, *, on: date) -> Entitlement | None:
    """The entitlement of this product the person still holds on `on` (not revoked, not over),
    for a product held once at a time; None otherwise."""
    if not product.cannot_be_held_twice:
        return None
    return (
        Entitlement.objects.filter(
            holder=person, product=product, revoked_at__isnull=True, valid_until__gte=on
        )
        .order_by("-valid_until")
        .first()
    )


def is_offered(product: Product, person: Person, *, on: date) -> bool:
    return refusal(product, person, on=on) is None and held(product, person, on=on) is None


def check_can_buy(
    product: Product, person: Person, *, on: date, repeating: str | None = None
) -> None:
    """Refuse (nothing written) a sale the product's eligibility or a valid holding rules out.
    `repeating`: the sale reference of this very sale, whose holding is no obstacle (a free
    product's form sent twice gets the same entitlement back)."""
    reason = refusal(product, person, on=on)
    if reason is not None:
        raise DomainError(reason, field="person", code="not_eligible")
    holding = held(product, person, on=on)
    if holding is not None and (repeating is None or holding.sale_ref != repeating):
        raise Conflict(
            _("%(name)s already holds %(product)s, valid until %(date)s.")
            % {
                "name": person.first_name,
                "product": product.name,
                "date": holding.valid_until.strftime("%d/%m/%Y"),
            },
            field="product",
            code="already_held",
        )


def describe(product: Product) -> str:
    """The eligibility in a line ("Ages 6 to 12, residents of the territory"), or ""."""
    parts = []
    low, high = product.min_age, product.max_age
    if low is not None and high is not None:
        parts.append(_("Ages %(min)s to %(max)s") % {"min": low, "max": high})
    elif low is not None:
        parts.append(_("Ages %(min)s and over") % {"min": low})
    elif high is not None:
        parts.append(_("Up to %(max)s years old") % {"max": high})
    if product.residents_only:
        parts.append(_("residents of the territory") if parts else _("Residents of the territory"))
    return ", ".join(parts)
