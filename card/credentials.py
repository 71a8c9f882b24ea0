"""Reading what a reader sends: an NFC card's SUN URL or a phone pass code. Pure functions over
the keys (no database): a forged or malformed credential is refused before any query."""

import base64
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from ntag424 import sun

from . import keys

PHONE_PASS_STEP_SECONDS = 30
PHONE_PASS_TOLERANCE_STEPS = 1
PHONE_PASS_PREFIX = "S1"  # noqa: S105 - a format marker, not a secret
_PHONE_PASS = re.compile(r"^S1\.(\d{16})\.(\d{1,12})\.([A-Z2-7]{16})$")
MAX_CREDENTIAL_LENGTH = 1024


class InvalidCredential(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PresentedCredential:
    """An authenticated credential: which card (by chip UID or by number) and its counter. A
    card number typed at a staff desk (kind "number") authenticates nothing and has no counter."""

    kind: str  # "sun", "phone" or "number"
    counter: int | None
    uid: str | None = None
    number: str | None = None


def phone_pass_step(at: datetime) -> int:
    return int(at.timestamp()) // PHONE_PASS_STEP_SECONDS


def phone_pass_code(card_number: str, step: int) -> str:
    """The code shown in the QR for one 30-second step: HMAC of the card's secret and the step."""
    mac = hmac.new(keys.phone_pass_secret(card_number), step.to_bytes(8, "big"), "sha256")
    return base64.b32encode(mac.digest()[:10]).decode()


def phone_pass_payload(card_number: str, at: datetime) -> str:
    step = phone_pass_step(at)
    return f"{PHONE_PASS_PREFIX}.{card_number}.{step}.{phone_pass_code(card_number, step)}"


def read(credential: str, *, at: datetime) -> PresentedCredential:
    """Authenticate a credential cryptographically. Raises InvalidCredential with a reason code:
    `invalid_credential` (malformed, forged, tampered) or `expired_credential` (a phone code
    outside its minute: a screenshot passed on)."""
    if not isinstance(credential, str) or not credential or len(credential) > MAX_CREDENTIAL_LENGTH:
        raise InvalidCredential("invalid_credential")
    if credential.startswith(PHONE_PASS_PREFIX + "."):
        return _read_phone_pass(credential, at=at)
    try:
        verified = sun.verify_sun(
            credential,
            meta_read_key=keys.meta_read_key(),
            file_read_key_for_uid=keys.card_file_read_key,
        )
    except sun.InvalidSunMessage as error:
        raise InvalidCredential("invalid_credential") from error
    return PresentedCredential(kind="sun", counter=verified.counter, uid=verified.uid.hex().upper())


def _read_phone_pass(credential: str, *, at: datetime) -> PresentedCredential:
    match = _PHONE_PASS.match(credential)
    if match is None:
        raise InvalidCredential("invalid_credential")
    number, step_text, code = match.groups()
    step = int(step_text)
    if not hmac.compare_digest(phone_pass_code(number, step), code):
        raise InvalidCredential("invalid_credential")
    if abs(phone_pass_step(at) - step) > PHONE_PASS_TOLERANCE_STEPS:
        raise InvalidCredential("expired_credential")
    return PresentedCredential(kind="phone", counter=step, number=number)
