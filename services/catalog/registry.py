"""What municipal services offer at the catalogue's access points, registered by the services.

A municipal service is a sub-package of `services/` with its own Django app. The catalogue
knows none of them: each registers, in its AppConfig.ready, what it offers here, and the floors
above (the card desk) ask this registry, never a service directly. Services do not import each
other (an import-linter contract in pyproject.toml): they meet here.

For now a service offers `DeskAction`s: something staff do, at a desk of a facility of the
given kinds, for the person whose card was just checked there (hand out waste-sorting bags at
the town hall). The desk shows the action's `summary` for that person and a quantity with a
button, and calls `perform` with the person the desk's tap identified (card decides who that
is; the action still checks the actor's rights, its limits and its locks, as every action)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise

from identity.models import Person

from .models import AccessPoint

# summary(person, day): what the desk shows for the person (None: nothing to show).
Summary = Callable[[Person, date], "str | None"]
# perform(*, actor, person, access_point, quantity): do it, or raise DomainError / Forbidden;
# returns the confirmation the desk shows.
Perform = Callable[..., str]


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
