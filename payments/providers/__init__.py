"""Payment providers behind one interface (`base.Provider`); see `base` for the flow."""

from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Provider, ProviderError, ProviderStart

__all__ = [
    "Provider",
    "ProviderError",
    "ProviderStart",
    "get_provider",
    "online_provider",
    "register_provider",
]

PROVIDER_PATHS: dict[str, str] = {
    "demo": "payments.providers.demo.DemoProvider",
    "stripe": "payments.providers.stripe.StripeProvider",
}

_factories: dict[str, Callable[[], Provider]] = {}


def register_provider(code: str, factory: Callable[[], Provider]) -> None:
    """Use `factory()` for `code` (replaces the built-in path; tests use it for fakes)."""
    _factories[code] = factory


def unregister_provider(code: str) -> None:
    _factories.pop(code, None)


def get_provider(code: str) -> Provider:
    """The provider of that code; `KeyError` when there is none."""
    if code in _factories:
        return _factories[code]()
    if code not in PROVIDER_PATHS:
        raise KeyError(code)
    return import_string(PROVIDER_PATHS[code])()


def stripe_configured() -> bool:
    return bool(getattr(settings, "STRIPE_SECRET_KEY", ""))


def online_provider() -> Provider:
    """Stripe when its keys are configured, else the built-in demo provider."""
    return get_provider("stripe" if stripe_configured() else "demo")
