"""Bearer tokens for applications and devices: `<label>_<prefix>_<secret>`.

The prefix finds the row, the secret is checked against its stored SHA-256. Tokens are long
random strings, so one hash is enough (no password stretching) and a look-up stays one
indexed SELECT. Used by staff API tokens here and by card readers."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class NewToken:
    prefix: str
    key_hash: str
    raw: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(label: str) -> NewToken:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewToken(prefix=prefix, key_hash=hash_secret(secret), raw=f"{label}_{prefix}_{secret}")


def parse(raw: str, label: str) -> tuple[str, str] | None:
    """(prefix, secret), or None when the text is not a token of this kind."""
    parts = raw.split("_", 2)  # the secret itself may contain "_"
    if len(parts) != 3 or parts[0] != label or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def matches(secret: str, key_hash: str) -> bool:
    return hmac.compare_digest(key_hash, hash_secret(secret))
