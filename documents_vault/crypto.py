"""Encryption at rest of the document safe: envelope encryption with AES-256-GCM.

Each file version gets a fresh 256-bit data key. The file is encrypted with it (AES-GCM, a
random 96-bit nonce, the version's public id as associated data, so a ciphertext copied onto
another row does not decrypt). The data key is stored only wrapped by the master key (AES-GCM
again, with the same associated data), never in clear. Rotating the master key re-wraps data
keys without touching the files; destroying a wrapped data key makes every copy of the file,
backups included, unreadable (crypto-shredding).

The master key comes from the environment (settings.SESAME_VAULT_MASTER_KEY, 64 hex digits);
keys replaced by a rotation stay readable from SESAME_VAULT_PREVIOUS_MASTER_KEYS until the
rotation has re-wrapped every data key. Rows name the master key that wrapped them by an id
derived from it (an HMAC), which says nothing of the key itself."""

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's 96-bit nonce, random per encryption
WRAP_CONTEXT = b"sesame-vault-wrap:"
FILE_CONTEXT = b"sesame-vault-file:"


class VaultKeyError(Exception):
    """No master key known to this server unwraps the data key (wrong or missing master key)."""


class TamperedError(Exception):
    """The stored bytes are not the ones written: integrity hash or authentication tag wrong."""


@dataclass(frozen=True)
class MasterKey:
    key: bytes

    @property
    def key_id(self) -> str:
        """A public name for the key (stored with each wrapped data key)."""
        return hmac.new(self.key, b"sesame-vault-key-id", hashlib.sha256).hexdigest()[:16]


def parse_master_key(value: str, *, setting: str = "SESAME_VAULT_MASTER_KEY") -> MasterKey:
    try:
        key = bytes.fromhex(value.strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{setting} must be 64 hexadecimal digits (an AES-256 key).")
    return MasterKey(key)


def master_key() -> MasterKey:
    """The key that wraps new data keys."""
    return parse_master_key(settings.SESAME_VAULT_MASTER_KEY)


def known_master_keys() -> dict[str, MasterKey]:
    """Every master key this server can unwrap with, by id: the current one and those a
    rotation is still moving away from."""
    keys = [master_key()] + [
        parse_master_key(value, setting="SESAME_VAULT_PREVIOUS_MASTER_KEYS")
        for value in settings.SESAME_VAULT_PREVIOUS_MASTER_KEYS
    ]
    return {key.key_id: key for key in keys}


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)


def wrap_data_key(data_key: bytes, *, binding: str, master: MasterKey | None = None) -> bytes:
    """The data key sealed by the master key, bound to its row (`binding`: the version's id)."""
    return _seal((master or master_key()).key, data_key, WRAP_CONTEXT + binding.encode())


def unwrap_data_key(wrapped: bytes, *, binding: str, key_id: str) -> bytes:
    master = known_master_keys().get(key_id)
    if master is None:
        raise VaultKeyError(f"master key {key_id} is not configured")
    try:
        return _open(master.key, bytes(wrapped), WRAP_CONTEXT + binding.encode())
    except InvalidTag as error:
        raise VaultKeyError(f"data key does not unwrap under master key {key_id}") from error


def encrypt_file(plaintext: bytes, *, data_key: bytes, binding: str) -> bytes:
    return _seal(data_key, plaintext, FILE_CONTEXT + binding.encode())


def decrypt_file(sealed: bytes, *, data_key: bytes, binding: str) -> bytes:
    try:
        return _open(data_key, sealed, FILE_CONTEXT + binding.encode())
    except (InvalidTag, ValueError) as error:
        raise TamperedError("authentication tag does not match") from error


def integrity_hash(data: bytes) -> str:
    """SHA-256 of the stored object, kept with its row and checked before every decryption."""
    return hashlib.sha256(data).hexdigest()
