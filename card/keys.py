"""Card key material, all derived from the master key in the environment.

Nothing here is stored: the territory-wide SDM meta-read key, each card's file-read (MAC) key,
each phone pass's secret and the offline-snapshot signing key are recomputed from the master
key when needed, so the database alone never opens a gate."""

import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from ntag424 import sun


@lru_cache(maxsize=4)
def _master(hex_key: str) -> bytes:
    key = bytes.fromhex(hex_key)
    if len(key) != 16:
        raise ValueError("SESAME_CARD_MASTER_KEY must be 32 hexadecimal digits (AES-128).")
    return key


def master_key() -> bytes:
    return _master(settings.SESAME_CARD_MASTER_KEY)


@lru_cache(maxsize=4)
def _meta_read_key(master: bytes) -> bytes:
    return sun.derive_meta_read_key(master)


def meta_read_key() -> bytes:
    return _meta_read_key(master_key())


def card_file_read_key(uid: bytes) -> bytes:
    return sun.derive_card_file_read_key(master_key(), uid=uid)


def phone_pass_secret(card_number: str) -> bytes:
    return hmac.new(master_key(), b"SESAME/PHONE-PASS/1/" + card_number.encode(), "sha256").digest()


@lru_cache(maxsize=4)
def _signing_key(master: bytes) -> Ed25519PrivateKey:
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"SESAME/SNAPSHOT-SIGNING/1"
    ).derive(master)
    return Ed25519PrivateKey.from_private_bytes(seed)


def snapshot_signing_key() -> Ed25519PrivateKey:
    """Signs offline snapshots; readers hold only the public half."""
    return _signing_key(master_key())


def key_fingerprint() -> str:
    """Identifies the master key in logs and snapshots without revealing it."""
    return hashlib.sha256(b"SESAME/FINGERPRINT/" + master_key()).hexdigest()[:16]
