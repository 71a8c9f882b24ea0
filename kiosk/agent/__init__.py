"""The Sésame reader agent: the process beside the NFC reader of a gate, a staff desk or a
kiosk. It reads the card's SUN URL over ISO 7816 (nfcpy), sends it to the server's public API
with the device token, and keeps working when the network is down (gates and desks decide
from the signed offline snapshot and queue their taps).

It imports nothing of the server (an import-linter contract): it speaks HTTP to the public
API exactly like a third-party client. See docs/kiosk-agent.md."""

__version__ = "1.0.0"
