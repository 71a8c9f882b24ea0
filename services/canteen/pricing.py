"""Which catalogue product prices a canteen day: the penalty price for a meal taken without
booking (whatever the diet), a PAI child's packed-meal price for a lunch they bring from home
(the booking's flag, as the kitchen knew it that day), else the service's own. One answer for
the monthly bill and for prepayment at booking."""

from django.utils.translation import gettext as _

from identity.errors import DomainError
from services.catalog.models import Product

from .models import Service


def meal_product(service: Service, *, without_booking: bool, packed_meal: bool) -> Product:
    """The product of a day; DomainError `no_tariff` naming the service when the town set none."""
    if without_booking:
        product = service.penalty_product
    elif packed_meal:
        product = service.packed_meal_product
    else:
        product = service.product
    if product is None:
        raise DomainError(
            _("%(service)s has no price: ask the town hall.") % {"service": service},
            code="no_tariff",
        )
    return product


def meal_label(product: Product, *, without_booking: bool, packed_meal: bool) -> str:
    """The product's name as a bill or a wallet's history says it."""
    if without_booking:
        return _("%(product)s (without booking)") % {"product": product.name}
    if packed_meal:
        return _("%(product)s (packed meal from home, PAI)") % {"product": product.name}
    return product.name
