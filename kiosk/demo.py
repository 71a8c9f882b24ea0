"""The demo's kiosk screen: a one-time pairing link for the demo kiosk (card/demo.py), made by
the demo administrator as staff would from the devices page."""

from django.urls import reverse

from card.demo import demo_kiosk
from identity.demo import ADMIN_EMAIL
from identity.models import User

from .actions import create_screen_pairing


def screen_pairing_link(server: str) -> str:
    """A fresh link pairing a browser with the demo kiosk (valid 15 minutes, once)."""
    admin = User.objects.get(email=ADMIN_EMAIL)
    _pairing, code = create_screen_pairing(actor=admin, reader=demo_kiosk())
    return server.rstrip("/") + reverse("kiosk:pair", args=[code])
