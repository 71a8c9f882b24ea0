"""Factories and helpers of the payments tests."""

import secrets

import factory

from identity.models import Guardianship, Person, StaffRole
from payments.actions.checkout import start_payment
from payments.actions.orders import LineInput, create_order
from payments.actions.provider_events import record_payment_succeeded
from payments.actions.wallets import create_topup_order
from payments.fulfilment import register_fulfilment_handler
from payments.models import Regie
from tests.factories import PersonFactory, ResidentFactory, staff_user


class RegieFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Regie
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"regie{n}")
    name = factory.Sequence(lambda n: f"Régie de recettes n°{n}")
    collectivite = "Communauté d'agglomération du Grand Cahors"
    address_line1 = "72 rue Wilson"
    postcode = "46000"
    city = "Cahors"
    siret = "20002451400017"
    email = "regie@example.org"
    regisseur_name = "Régisseuse Dupont"


def wallet_regie() -> Regie:
    return RegieFactory(code="pm", name="Régie porte-monnaie", holds_wallets=True)


class Recorder:
    """A fulfilment handler that counts what it is asked (registered as `test.thing`)."""

    def __init__(self, name: str = "test.thing"):
        self.name = name
        self.fulfilled: list[int] = []
        self.undone: list[int] = []
        self.fail_next = 0
        register_fulfilment_handler(name, fulfil=self.fulfil, undo=self.undo)

    def fulfil(self, line):
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("service down")
        self.fulfilled.append(line.pk)

    def undo(self, line):
        self.undone.append(line.pk)


def resident_with_child():
    parent = ResidentFactory()
    child = PersonFactory(
        household=parent.household, role=Person.Role.CHILD, first_name="Léa", user=None
    )
    Guardianship.objects.create(guardian=parent, child=child)
    return parent, child


def order_for(resident, *lines, channel="web", regie=None, handler="test.thing"):
    """An order of `lines` (cents) for `resident`, each line of `handler`."""
    regie = regie or RegieFactory()
    return create_order(
        buyer=resident.user,
        payer=resident,
        channel=channel,
        lines=[
            LineInput(
                regie=regie,
                label=f"Article {i}",
                handler=handler,
                unit_price_cents=c,
                explanation="Tarif résident",
            )
            for i, c in enumerate(lines or (1500,))
        ],
    )


def pay(order, provider="demo", event_id=None):
    """Start and succeed the payment of `order` through the demo provider."""
    payment, _start = start_payment(order=order, provider=provider, return_url="/")
    return record_payment_succeeded(
        provider=provider,
        provider_reference=payment.provider_reference,
        amount_cents=payment.amount_cents,
        currency="EUR",
        event_id=event_id,
    )


def topped_up(person, cents, *, actor=None):
    """A paid top-up of `person`'s wallet."""
    wallet_regie()
    actor = actor or person
    order = create_topup_order(actor=actor.user, person=person, amount_cents=cents)
    return pay(order)


def regisseur():
    return staff_user(StaffRole.Role.FINANCE_OFFICER)


def key() -> str:
    return secrets.token_hex(8)
