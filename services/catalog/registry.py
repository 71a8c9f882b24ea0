"""What municipal services offer through the catalogue, registered by the services themselves.

A municipal service is a sub-package of `services/` with its own Django app: adding one means
adding one folder, `services/<name>/` (apps.py, models.py, actions.py, queries.py, templates/,
migrations/, and `urls.py` with an `app_name` if it has pages: services/urls.py includes it),
plus one line in INSTALLED_APPS and in the import-linter contracts of pyproject.toml. The
catalogue knows none of them: each registers, in its AppConfig.ready, one `MunicipalService`
saying what it offers, and the floors above (the card desk, Mon espace) ask this registry, never
a service directly. Services do not import each other (an import-linter contract): they meet
here. services/pools/apps.py is the example to copy:

    class PoolsConfig(AppConfig):
        def ready(self):
            from services.catalog.registry import MunicipalService, Panel, register_service
            register_service(MunicipalService(
                key="pools",
                name=_("Swimming pools"),
                product_codes=frozenset({"piscine-entree", "piscine-stage-natation", ...}),
                facility_kinds=frozenset({Facility.Kind.POOL}),
                procedures=(Procedure("swimming_lessons", _("Book swimming lessons"),
                                      "pools:lessons"),),
                panels=(Panel("bookings", _("My swimming lessons"), "pools/_panel.html",
                              queries.panel_context),),
                demo=demo.load,
            ))
            fulfilment.register()  # payments' handler for the lesson places it sells

What a service declares:

- `product_codes`: the catalogue products (services.catalog.models.Product, by code) it sells
  or answers for; `service_for_product(code)` finds the service of a product.
- `facility_kinds`: the kinds of facilities (and so the access points) it answers for
  (`services_for_facility_kind`).
- `procedures`: what a resident can start online, a name and a URL (a URL name reversed without
  arguments, or an absolute path). Form-based procedures are declared on the procedures
  engine (services.procedures.types) and listed here with their page, /demarches/<key>/.
- `panels`: what it adds to Mon espace. A `Panel` is a template and a context function
  `context(request, person) -> dict` (the signed-in resident's Person). Mon espace renders the
  template with that context (and the request's) in the section of the panel's `key`
  ("services", "bookings", … as portal.panels lists them), or in a section of its own, titled
  `title`, for a key portal does not know. The context shows only what the resident may see
  (their household, identity.permissions.can_act_for), and every link it renders goes to a view
  that checks the permissions again.
- `demo`: a function loading the service's demo data (idempotent), run by the catalogue's
  demo (services/catalog/demo.py) after its own products and access points.
- `on_address_change`: called with the household and the day it moved when a change of
  address is accepted (`announce_address_change`, from the change-of-address procedure).
- `desk_actions`: `DeskAction`s, something staff do, at a desk of a facility of the given kinds,
  for the person whose card was just checked there (hand out waste-sorting bags at the town
  hall). The desk shows the action's `summary` for that person and a quantity with a button,
  and calls `perform` with the person the desk's tap identified (card decides who that is; the
  action still checks the actor's rights, its limits and its locks, as every action).

- `bookers`: `Booker`s, something a service books for a person at a time it offers (an
  appointment at a desk), asked for by key by whoever produces a booking without knowing the
  service: the procedures engine, when a type accepted produces a booking (a certificate to
  collect at the town hall). `openings(person, first, last)` lists the times one may book,
  each an `Opening` with an opaque `value` and its label; `book(actor=, person=, opening=,
  reference=)` books one, or raises a DomainError (the time is taken: a Conflict
  `slot_taken`), and answers what was `Booked`.

- `gates`: `Gate`s, a service's own decision at the entrances of facilities of a kind (the
  canteen at a school: that day's booking is the entitlement, and a child without one is served
  at the penalty price, never refused). `decide` asks the gate of the facility's kind first,
  inside its transaction; a gate answering None leaves the decision to the catalogue.

- `figures`: `FacilityFigures`, a service's own page of figures for a facility of a kind (the
  canteen's meals booked and served at a school), linked from the attendance page, which
  counts only entries (`figures_for(facility)`).

`register_desk_action` stays for a desk action registered on its own (tests); a service's
desk actions are registered with it.

Registering the same service again is harmless (apps may be readied twice in tests); another
service under a key already taken, or a product code or desk action key claimed by two services,
is a configuration error raised at start-up.

Money: a service that sells registers its fulfilment handler with payments
(payments.fulfilment.register_fulfilment_handler) in the same `ready`; payments calls it by
name when an order line is paid or refunded, and never imports services.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise

from identity.models import Facility, Household, Person

from .models import AccessPoint

# summary(person, day): what the desk shows for the person (None: nothing to show).
Summary = Callable[[Person, date], "str | None"]
# perform(*, actor, person, access_point, quantity): do it, or raise DomainError / Forbidden;
# returns the confirmation the desk shows.
Perform = Callable[..., str]


@dataclass(frozen=True)
class Procedure:
    """Something a resident starts online: its name and where it starts (a URL name without
    arguments, or an absolute path)."""

    key: str
    name: str | Promise
    url: str

    def href(self) -> str:
        if self.url.startswith("/"):
            return self.url
        try:
            return reverse(self.url)
        except NoReverseMatch:
            return ""


# context(request, person) -> the template's context (a dict merged into Mon espace's).
PanelContext = Callable[[Any, Person], dict]


@dataclass(frozen=True)
class Panel:
    """What a service adds to Mon espace: `template` is included with Mon espace's context
    plus what `context(request, person)` returns, in the section `key`."""

    key: str
    title: str | Promise
    template: str
    context: PanelContext
    order: int = 100


@dataclass(frozen=True)
class DeskAction:
    """Something staff do for the holder of the card just checked at a desk.

    `key` is stable and URL-safe (it names the action in the desk's form); `label` is the
    button's text and `quantity_label` the quantity's label (lazy translations)."""

    key: str
    label: str | Promise
    facility_kinds: frozenset[str]
    summary: Summary
    perform: Perform
    quantity_label: str | Promise = ""
    max_quantity: int = 99


_desk_actions: dict[str, DeskAction] = {}


def register_desk_action(action: DeskAction) -> DeskAction:
    """Offer a desk action (from a service's AppConfig.ready). Registering the same action
    again is harmless; another action under a key already taken is a configuration error."""
    if not action.key or not action.key.replace("_", "").replace("-", "").isalnum():
        raise ImproperlyConfigured(f"Desk action key {action.key!r} is not URL-safe.")
    existing = _desk_actions.get(action.key)
    if existing is not None and existing != action:
        raise ImproperlyConfigured(f"Desk action {action.key!r} is registered twice.")
    _desk_actions[action.key] = action
    return action


def unregister_desk_action(key: str) -> None:
    """Withdraw a desk action (tests registering one of their own)."""
    _desk_actions.pop(key, None)


def desk_actions_for(facility_kind: str) -> list[DeskAction]:
    """The desk actions offered at facilities of this kind, in registration order."""
    return [a for a in _desk_actions.values() if facility_kind in a.facility_kinds]


def desk_action(key: str, *, at: AccessPoint) -> DeskAction | None:
    """The desk action `key` if it is offered at this access point (a desk of a facility of
    one of its kinds), else None."""
    action = _desk_actions.get(key)
    if action is None or at.kind != AccessPoint.Kind.DESK:
        return None
    return action if at.facility.kind in action.facility_kinds else None


def desk_actions_at(access_point: AccessPoint) -> list[DeskAction]:
    """The desk actions offered at this access point: none but at a desk."""
    if access_point.kind != AccessPoint.Kind.DESK:
        return []
    return desk_actions_for(access_point.facility.kind)


# gate(*, holder_id, access_point, at) -> an AccessDecision (services.catalog.actions), or None
# to let the catalogue decide. Runs in decide's transaction: it locks and writes what it needs.
GateDecision = Callable[..., Any]


@dataclass(frozen=True)
class Gate:
    """A service's decision at the entrances of facilities of `facility_kind`."""

    facility_kind: str
    decide: GateDecision


_gates: dict[str, Gate] = {}


@dataclass(frozen=True)
class Opening:
    """A time a booker offers: `value` is the booker's own (given back to `book`)."""

    value: str
    label: str


@dataclass(frozen=True)
class Booked:
    """What a booker booked: its reference (a public id), when (and when in words: "mardi 8
    décembre 2026 à 09:15"), and where, in words."""

    reference: str
    starts_at: datetime
    when: str
    place: str


# openings(person, first, last) -> the Openings one may book for person between two days.
Openings = Callable[[Person, date, date], "list[Opening]"]
# book(*, actor, person, opening, reference) -> Booked, or raise DomainError.
Book = Callable[..., Booked]


@dataclass(frozen=True)
class Booker:
    """Something a service books for a person at a time it offers (see the module docstring)."""

    key: str
    label: str | Promise
    openings: Openings
    book: Book


_bookers: dict[str, Booker] = {}


def booker(key: str) -> Booker | None:
    """The booker registered under `key`, if its service is installed."""
    return _bookers.get(key)


def gate_for(facility_kind: str) -> Gate | None:
    """The gate a service registered for this kind of facility, if any."""
    return _gates.get(facility_kind)


@dataclass(frozen=True)
class FacilityFigures:
    """A service's own figures for a facility, linked from the attendance page (Agents ›
    Fréquentation), which counts entries only: at a school, the canteen's meals booked and
    served. `url(facility)` is its page for that facility, None where the service has nothing
    there. Its page decides who may read it; the link is shown to whoever sees the facility's
    attendance."""

    facility_kind: str
    label: str | Promise
    url: Callable[[Facility], str | None]


def figures_for(facility: Facility) -> list[tuple[str, str]]:
    """(label, url) of every service's figures for `facility`."""
    found = []
    for registered in _services.values():
        for figures in registered.figures:
            if figures.facility_kind == facility.kind and (url := figures.url(facility)):
                found.append((str(figures.label), url))
    return found


# --- Municipal services ----------------------------------------------------------------------


@dataclass(frozen=True)
class MunicipalService:
    """Everything a municipal service offers through the catalogue (see the module docstring)."""

    key: str
    name: str | Promise
    product_codes: frozenset[str] = frozenset()
    facility_kinds: frozenset[str] = frozenset()
    procedures: tuple[Procedure, ...] = ()
    panels: tuple[Panel, ...] = ()
    desk_actions: tuple[DeskAction, ...] = ()
    gates: tuple[Gate, ...] = ()
    bookers: tuple[Booker, ...] = ()
    figures: tuple[FacilityFigures, ...] = ()
    # demo(): the service's demo data (idempotent), loaded after the catalogue's.
    demo: Callable[[], None] | None = None
    # on_address_change(household, since): the household moved (a change of address declared
    # through a procedure); the service adapts what depends on the address (a canteen's
    # school, a waste-collection round), within the move's transaction.
    on_address_change: Callable[[Household, date], None] | None = None


_services: dict[str, MunicipalService] = {}


def register_service(service: MunicipalService) -> MunicipalService:
    """Register what a municipal service offers (from its AppConfig.ready): its products,
    facility kinds, procedures, Mon espace panels and desk actions."""
    existing = _services.get(service.key)
    if existing is not None:
        if existing != service:
            raise ImproperlyConfigured(f"Municipal service {service.key!r} is registered twice.")
        return existing
    for other in _services.values():
        shared = other.product_codes & service.product_codes
        if shared:
            raise ImproperlyConfigured(
                f"Products {sorted(shared)} are claimed by {other.key!r} and {service.key!r}."
            )
    for gate in service.gates:
        taken = _gates.get(gate.facility_kind)
        if taken is not None and taken != gate:
            raise ImproperlyConfigured(f"Two gates for facilities of kind {gate.facility_kind!r}.")
    for offered in service.bookers:
        taken = _bookers.get(offered.key)
        if taken is not None and taken != offered:
            raise ImproperlyConfigured(f"Booker {offered.key!r} is registered twice.")
    for action in service.desk_actions:
        register_desk_action(action)
    for gate in service.gates:
        _gates[gate.facility_kind] = gate
    for offered in service.bookers:
        _bookers[offered.key] = offered
    _services[service.key] = service
    return service


def unregister_service(key: str) -> None:
    """Withdraw a service and its desk actions (tests registering one of their own)."""
    service = _services.pop(key, None)
    if service is not None:
        for action in service.desk_actions:
            unregister_desk_action(action.key)
        for gate in service.gates:
            _gates.pop(gate.facility_kind, None)
        for offered in service.bookers:
            _bookers.pop(offered.key, None)


def services() -> list[MunicipalService]:
    """Every registered service, in registration order (INSTALLED_APPS order)."""
    return list(_services.values())


def service(key: str) -> MunicipalService | None:
    return _services.get(key)


def service_for_product(code: str) -> MunicipalService | None:
    """The service selling the product of this code, if one registered it."""
    return next((s for s in _services.values() if code in s.product_codes), None)


def services_for_facility_kind(facility_kind: str) -> list[MunicipalService]:
    """The services answering for facilities of this kind (and their access points)."""
    return [s for s in _services.values() if facility_kind in s.facility_kinds]


def announce_address_change(household: Household, since: date) -> list[str]:
    """Tell every service that cares that the household moved from `since`; returns the keys
    of the services told."""
    told = []
    for registered in _services.values():
        if registered.on_address_change is not None:
            registered.on_address_change(household, since)
            told.append(registered.key)
    return told


def procedures() -> list[tuple[MunicipalService, Procedure]]:
    """Every procedure a resident can start online, with its service."""
    return [(s, p) for s in _services.values() for p in s.procedures]


def panels() -> list[Panel]:
    """The panels of Mon espace, by `order` then registration order."""
    found = [panel for s in _services.values() for panel in s.panels]
    return sorted(found, key=lambda panel: panel.order)


def render_panels(request, person: Person) -> list[dict]:
    """Each registered panel rendered for Mon espace: {"key", "title", "html"}."""
    return [
        {
            "key": panel.key,
            "title": panel.title,
            "html": render_to_string(
                panel.template, panel.context(request, person), request=request
            ),
        }
        for panel in panels()
    ]
