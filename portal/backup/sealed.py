"""The encryption of a backup archive: a stream of AES-256-GCM chunks (the STREAM construction
of Hoang, Reyhanitabar, Rogaway and Vizár), written and read as files, so that an archive of
any size passes through a fixed amount of memory.

    header  = MAGIC | key id (16 ASCII hex) | salt (32 bytes)
    chunks  = AES-GCM(chunk key, nonce = prefix (7) | counter (4, big-endian) | last (1),
                      plaintext ≤ CHUNK_BYTES, associated data = header)

The chunk key is derived from the backup key and the archive's random salt (HKDF-SHA256), so
no two archives share a key and a nonce. Each chunk is authenticated with its position and
with whether it is the last one: a chunk changed, moved, dropped, or an archive cut short at
any byte is refused (`ArchiveRefused`). The key id (an HMAC of the key) names the key that
sealed the archive, so that a wrong key is told as such rather than as a corruption.

The backup key comes from the environment (settings.SESAME_BACKUP_KEY, 64 hex digits): keep it
in the town's key safe, away from the archives; without it no archive can be read."""

import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"SESAME-BACKUP-1\n"
KEY_ID_BYTES = 16
SALT_BYTES = 32
HEADER_BYTES = len(MAGIC) + KEY_ID_BYTES + SALT_BYTES
CHUNK_BYTES = 64 * 1024
TAG_BYTES = 16
MAX_CHUNKS = 2**32 - 1


class ArchiveRefused(Exception):
    """The archive cannot be trusted or read: its message says why, for the operator."""


def backup_key() -> bytes:
    value = settings.SESAME_BACKUP_KEY
    if not value:
        raise ImproperlyConfigured(
            "SESAME_BACKUP_KEY is not set: 64 hexadecimal digits, kept in the key safe."
        )
    try:
        key = bytes.fromhex(value.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured("SESAME_BACKUP_KEY must be 64 hexadecimal digits.")
    return key


def key_id(key: bytes) -> bytes:
    return (
        hmac.new(key, b"sesame-backup-key-id", hashlib.sha256).hexdigest()[:KEY_ID_BYTES].encode()
    )


def _chunk_cipher(key: bytes, salt: bytes) -> tuple[AESGCM, bytes]:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32 + 7, salt=salt, info=b"sesame-backup-chunks"
    ).derive(key)
    return AESGCM(derived[:32]), derived[32:]


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter > MAX_CHUNKS:
        raise ArchiveRefused("The archive is larger than this format allows.")
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class SealingWriter:
    """A write-only file: what is written to it reaches `out` encrypted, chunk by chunk.
    `close()` seals the last chunk (without it the archive reads as cut short)."""

    def __init__(self, out, *, key: bytes):
        self.out = out
        salt = os.urandom(SALT_BYTES)
        self.header = MAGIC + key_id(key) + salt
        self.cipher, self.prefix = _chunk_cipher(key, salt)
        self.buffer = bytearray()
        self.counter = 0
        self.closed = False
        out.write(self.header)

    def write(self, data) -> int:
        self.buffer += data
        while len(self.buffer) > CHUNK_BYTES:
            # Keep at least one byte back: the last chunk is sealed as such by close().
            self._seal(bytes(self.buffer[:CHUNK_BYTES]), last=False)
            del self.buffer[:CHUNK_BYTES]
        return len(data)

    def _seal(self, plaintext: bytes, *, last: bool) -> None:
        nonce = _nonce(self.prefix, self.counter, last)
        self.out.write(self.cipher.encrypt(nonce, plaintext, self.header))
        self.counter += 1

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self.buffer), last=True)
            self.buffer.clear()
            self.closed = True
            self.out.flush()


class OpeningReader:
    """A read-only file over a sealed archive: reads give the plaintext, each chunk checked
    before any of it is handed out. Raises ArchiveRefused on a wrong key or any tampering."""

    def __init__(self, source, *, key: bytes):
        self.source = source
        header = source.read(HEADER_BYTES)
        if len(header) < HEADER_BYTES or not header.startswith(MAGIC):
            raise ArchiveRefused("This file is not a Sésame backup archive (or it is truncated).")
        sealed_by = header[len(MAGIC) : len(MAGIC) + KEY_ID_BYTES]
        if not hmac.compare_digest(sealed_by, key_id(key)):
            raise ArchiveRefused(
                f"This archive was encrypted with another backup key (key id "
                f"{sealed_by.decode(errors='replace')}, this server's is {key_id(key).decode()}): "
                "set SESAME_BACKUP_KEY to the key it was made with."
            )
        self.header = header
        self.cipher, self.prefix = _chunk_cipher(key, header[len(MAGIC) + KEY_ID_BYTES :])
        self.counter = 0
        self.plain = bytearray()
        self.pending = source.read(CHUNK_BYTES + TAG_BYTES)
        self.finished = False

    def _next_chunk(self) -> None:
        sealed = self.pending
        self.pending = self.source.read(CHUNK_BYTES + TAG_BYTES)
        last = not self.pending
        try:
            plain = self.cipher.decrypt(
                _nonce(self.prefix, self.counter, last), sealed, self.header
            )
        except (InvalidTag, ValueError) as error:
            raise ArchiveRefused(
                "The archive is corrupted or truncated (a chunk does not authenticate): "
                "it was changed or cut short after it was written."
            ) from error
        self.counter += 1
        self.plain += plain
        self.finished = last

    def read(self, size: int = -1) -> bytes:
        while not self.finished and (size < 0 or len(self.plain) < size):
            self._next_chunk()
        if size < 0:
            size = len(self.plain)
        data = bytes(self.plain[:size])
        del self.plain[:size]
        return data
