"""NTAG 424 DNA Secure Dynamic Messaging (SUN) verification, AES mode.

A tapped card emits a URL such as ``https://…/t?e=<PICCData>&c=<SDMMAC>``, where ``e`` is the
AES-encrypted UID and read counter and ``c`` a truncated CMAC under a per-tap session key. This
module parses such URLs strictly, decrypts and verifies them, and builds them (for simulators
and tests). References:

- NXP AN12196 "NTAG 424 DNA and NTAG 424 DNA TagTamper features and hints" (SUN message,
  session keys SV1/SV2, SDMMAC truncation, encrypted file data IV);
- NXP NT4H2421Gx datasheet, section "Secure Dynamic Messaging" (PICCDataTag layout);
- NXP AN10922 "Symmetric key diversification" (AES-128 diversification).

Supported layouts are the two AN12196 ones: UID and counter mirrored in encrypted PICC data
(tag 0xC7) with the MAC over an empty input, optionally with encrypted file data mirrored
right before the MAC, the MAC then covering the ASCII text from that data up to the MAC.

Pure Python on top of ``cryptography``; no Django import, so it can run in the kiosk agent,
simulators and unit tests alike.
"""

from __future__ import annotations

import hmac
import os
import string
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

__all__ = [
    "MAX_URL_LENGTH",
    "InvalidSunMessage",
    "PiccData",
    "SessionKeys",
    "SunMessage",
    "VerifiedTap",
    "build_sun_url",
    "decrypt_file_data",
    "decrypt_picc_data",
    "derive_card_file_read_key",
    "derive_meta_read_key",
    "diversify_key",
    "parse_sun_url",
    "sdm_mac",
    "session_keys",
    "verify_sun",
]

MAX_URL_LENGTH = 1024

KEY_LENGTH = 16
UID_LENGTH = 7
MAC_LENGTH = 8
_BLOCK = 16
_MAX_COUNTER = 0xFFFFFF  # SDMReadCtr is 3 bytes on the card.

# PICCDataTag (datasheet): bit 7 UID mirrored, bit 6 SDMReadCtr mirrored, bits 3..0 UID length.
# 0xC7 is the only layout Sésame cards are personalised with.
_PICC_TAG_UID_AND_COUNTER = 0xC7

# Session vector prefixes (AN12196): label C33C/3CC3, counter 0001, length 0080 (128 bits).
_SV1_PREFIX = bytes.fromhex("C33C00010080")
_SV2_PREFIX = bytes.fromhex("3CC300010080")

# AN10922 AES-128: constant prepended to the diversification input; M is 1..31 bytes.
_AN10922_AES128_CONSTANT = b"\x01"
_AN10922_MAX_INPUT = 31

# Diversification labels (the "system identifier" of AN10922). Distinct lengths and contents
# keep the territory-wide key and the per-card keys in separate domains.
_META_READ_LABEL = b"SESAME/SDM-META-READ/1"
_FILE_READ_LABEL = b"SESAME/SDM-FILE-READ/1"

_PICC_PARAMS = ("e", "picc_data")
_MAC_PARAMS = ("c", "cmac")
_ENC_PARAMS = ("enc",)
_HEX_DIGITS = frozenset(string.hexdigits)
# Printable ASCII without space: what a card can emit, and what mac_input must be made of.
_URL_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))


class InvalidSunMessage(ValueError):
    """A SUN message that cannot be trusted; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SunMessage:
    """The parts of a SUN URL, still encrypted and unverified."""

    picc_data: bytes
    mac: bytes
    enc_file_data: bytes | None = None
    # Exact ASCII bytes the SDMMAC covers, as they appeared in the URL (case preserved).
    mac_input: bytes = b""


@dataclass(frozen=True)
class PiccData:
    uid: bytes
    counter: int


@dataclass(frozen=True)
class SessionKeys:
    enc: bytes
    mac: bytes


@dataclass(frozen=True)
class VerifiedTap:
    uid: bytes
    counter: int
    file_data: bytes | None = None


# --- primitives ------------------------------------------------------------------------------


def _check_key(key: bytes, name: str) -> None:
    # A wrong key length is a configuration error, not a bad message: plain ValueError.
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_LENGTH:
        raise ValueError(f"{name} must be {KEY_LENGTH} bytes")


def _check_uid(uid: bytes) -> None:
    if not isinstance(uid, bytes | bytearray) or len(uid) != UID_LENGTH:
        raise ValueError(f"uid must be {UID_LENGTH} bytes")


def _counter_bytes(counter: int) -> bytes:
    if not 0 <= counter <= _MAX_COUNTER:
        raise ValueError("counter must fit in 3 bytes")
    return counter.to_bytes(3, "little")


def _cmac(key: bytes, message: bytes) -> bytes:
    mac = CMAC(algorithms.AES(key))
    mac.update(message)
    return mac.finalize()


def _ecb_encrypt_block(key: bytes, block: bytes) -> bytes:
    # One block, used as a key-derived IV as AN12196 specifies: ECB's weakness does not apply.
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305
    return encryptor.update(block) + encryptor.finalize()


def _cbc(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    context = cipher.encryptor() if encrypt else cipher.decryptor()
    return context.update(data) + context.finalize()


# --- parsing ---------------------------------------------------------------------------------


def _decode_hex(value: str, *, length: int | None) -> bytes:
    # bytes.fromhex tolerates whitespace; the card never emits any, so check digits ourselves.
    if not value or not set(value) <= _HEX_DIGITS:
        raise InvalidSunMessage("not_hex")
    if length is not None and len(value) != 2 * length:
        raise InvalidSunMessage("bad_length")
    if length is None and len(value) % (2 * _BLOCK):
        raise InvalidSunMessage("bad_length")
    return bytes.fromhex(value)


def parse_sun_url(url: str) -> SunMessage:
    """Split a SUN URL (or a bare query string) into its encrypted parts, strictly.

    Parameters: ``e`` (alias ``picc_data``, 16 bytes), ``c`` (alias ``cmac``, 8 bytes) and
    optionally ``enc`` (encrypted file data, a non-empty multiple of 16 bytes), each exactly
    once, hex in either case. Other parameters are ignored, since a URL template may carry
    static ones. Nothing is percent-decoded: the MAC covers the raw characters the card wrote.

    Raises ``InvalidSunMessage`` with reason ``too_long``, ``malformed``, ``missing_param``,
    ``duplicate_param``, ``not_hex`` or ``bad_length``.
    """
    if not isinstance(url, str):
        raise InvalidSunMessage("malformed")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidSunMessage("too_long")
    if not set(url) <= _URL_CHARS or "#" in url:
        raise InvalidSunMessage("malformed")
    query_start = url.find("?") + 1  # 0 for a bare query string
    query = url[query_start:]
    if not query:
        raise InvalidSunMessage("missing_param")

    # name -> (value, offset of the value in the query); offsets locate the MAC input.
    found: dict[str, tuple[str, int]] = {}
    offset = 0
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        if not sep or not name:
            raise InvalidSunMessage("malformed")
        canonical = next(
            (group[0] for group in (_PICC_PARAMS, _MAC_PARAMS, _ENC_PARAMS) if name in group),
            None,
        )
        if canonical is not None:
            if canonical in found:
                raise InvalidSunMessage("duplicate_param")
            found[canonical] = (value, offset + len(name) + 1)
        offset += len(part) + 1

    if "e" not in found or "c" not in found:
        raise InvalidSunMessage("missing_param")
    picc_data = _decode_hex(found["e"][0], length=_BLOCK)
    mac = _decode_hex(found["c"][0], length=MAC_LENGTH)

    enc_file_data = None
    mac_input = b""
    if "enc" in found:
        enc_value, enc_offset = found["enc"]
        enc_file_data = _decode_hex(enc_value, length=None)
        mac_offset = found["c"][1]
        # The card MACs from SDMMACInputOffset up to SDMMACOffset, and the datasheet requires
        # the former not to exceed the latter: a MAC before its data is not a card's output.
        if enc_offset > mac_offset:
            raise InvalidSunMessage("malformed")
        mac_input = query[enc_offset:mac_offset].encode("ascii")

    return SunMessage(
        picc_data=picc_data, mac=mac, enc_file_data=enc_file_data, mac_input=mac_input
    )


# --- SDM cryptography (AN12196) --------------------------------------------------------------


def decrypt_picc_data(k_sdm_meta_read: bytes, *, picc_data: bytes) -> PiccData:
    """Decrypt the ``e`` value: AES-128-CBC with a zero IV over one block.

    Layout 0xC7: tag (1) || UID (7) || SDMReadCtr (3, little-endian) || random padding (5).
    """
    _check_key(k_sdm_meta_read, "k_sdm_meta_read")
    if len(picc_data) != _BLOCK:
        raise InvalidSunMessage("bad_length")
    plain = _cbc(k_sdm_meta_read, bytes(_BLOCK), picc_data, encrypt=False)
    # With a wrong key or forged data the tag is random, so this is a cheap early filter; the
    # MAC check remains what authenticates the message.
    if plain[0] != _PICC_TAG_UID_AND_COUNTER:
        raise InvalidSunMessage("bad_picc_data")
    uid = plain[1 : 1 + UID_LENGTH]
    counter = int.from_bytes(plain[1 + UID_LENGTH : 4 + UID_LENGTH], "little")
    return PiccData(uid=uid, counter=counter)


def session_keys(k_sdm_file_read: bytes, *, uid: bytes, counter: int) -> SessionKeys:
    """Derive the per-tap session keys of AN12196.

    SV1 = C3 3C 00 01 00 80 || UID || SDMReadCtr (LE), SV2 = 3C C3 00 01 00 80 || UID || ctr;
    both are exactly 16 bytes, so no zero padding. ENC = CMAC(K, SV1), MAC = CMAC(K, SV2).
    """
    _check_key(k_sdm_file_read, "k_sdm_file_read")
    _check_uid(uid)
    tail = bytes(uid) + _counter_bytes(counter)
    return SessionKeys(
        enc=_cmac(k_sdm_file_read, _SV1_PREFIX + tail),
        mac=_cmac(k_sdm_file_read, _SV2_PREFIX + tail),
    )


def sdm_mac(k_ses_mac: bytes, *, mac_input: bytes) -> bytes:
    """SDMMAC: the full AES-CMAC over ``mac_input``, keeping the bytes at odd indices 1..15."""
    _check_key(k_ses_mac, "k_ses_mac")
    return _cmac(k_ses_mac, mac_input)[1::2]


def _file_data_iv(k_ses_enc: bytes, counter: int) -> bytes:
    # AN12196: IV = AES-ECB(KSesSDMFileReadENC, SDMReadCtr (LE) || 13 zero bytes).
    return _ecb_encrypt_block(k_ses_enc, _counter_bytes(counter) + bytes(13))


def decrypt_file_data(k_ses_enc: bytes, *, counter: int, enc_file_data: bytes) -> bytes:
    """Decrypt mirrored file data (AES-128-CBC, IV derived from the read counter)."""
    _check_key(k_ses_enc, "k_ses_enc")
    if not enc_file_data or len(enc_file_data) % _BLOCK:
        raise InvalidSunMessage("bad_length")
    return _cbc(k_ses_enc, _file_data_iv(k_ses_enc, counter), enc_file_data, encrypt=False)


def _encrypt_file_data(k_ses_enc: bytes, *, counter: int, file_data: bytes) -> bytes:
    return _cbc(k_ses_enc, _file_data_iv(k_ses_enc, counter), file_data, encrypt=True)


# --- key diversification (AN10922) -----------------------------------------------------------


def diversify_key(master_key: bytes, *, diversification_input: bytes) -> bytes:
    """AN10922 AES-128 key diversification: CMAC(master, 0x01 || M), M of 1 to 31 bytes.

    AN10922 pads 0x01 || M with 80 00… to 32 bytes and uses subkey K2 when padded, K1 when
    not: exactly what standard CMAC does for a 2..32-byte message, so CMAC is used as is.
    """
    _check_key(master_key, "master_key")
    if not 1 <= len(diversification_input) <= _AN10922_MAX_INPUT:
        raise ValueError(f"diversification_input must be 1 to {_AN10922_MAX_INPUT} bytes")
    return _cmac(master_key, _AN10922_AES128_CONSTANT + bytes(diversification_input))


def derive_meta_read_key(master_key: bytes) -> bytes:
    """The SDM meta-read key (decrypts ``e``), the same for every card of the territory.

    The server cannot know which card tapped until it has decrypted the PICC data, so this key
    cannot depend on the UID; it is diversified from the master key with a fixed label so that
    the master key itself is never written to a card. Whoever extracts it can read UIDs and
    counters, but cannot forge a tap: that needs the per-card file-read key.
    """
    return diversify_key(master_key, diversification_input=_META_READ_LABEL)


def derive_card_file_read_key(master_key: bytes, *, uid: bytes) -> bytes:
    """The per-card SDM file-read key (keys the MAC), diversified with the card's UID.

    Each card holds a different key, so a key extracted from one card does not let anyone
    forge taps of another card; the server recomputes it from the UID it just decrypted.
    """
    _check_uid(uid)
    return diversify_key(master_key, diversification_input=bytes(uid) + _FILE_READ_LABEL)


# --- verification and emission ---------------------------------------------------------------


def verify_sun(
    url_or_message: str | SunMessage,
    *,
    meta_read_key: bytes,
    file_read_key_for_uid: Callable[[bytes], bytes],
) -> VerifiedTap:
    """Authenticate a tap: decrypt the PICC data, derive the card key, check the SDMMAC.

    ``file_read_key_for_uid`` receives the decrypted UID and returns that card's file-read
    key; whatever it raises (an unknown card, say) propagates unchanged.

    This does NOT check that the counter increased: a replayed URL verifies again here. The
    caller must compare ``counter`` with the last one stored for the card, under a lock.
    Raises ``InvalidSunMessage`` (``bad_picc_data``, ``bad_mac``, or a parsing reason).
    """
    message = (
        url_or_message if isinstance(url_or_message, SunMessage) else parse_sun_url(url_or_message)
    )
    picc = decrypt_picc_data(meta_read_key, picc_data=message.picc_data)
    keys = session_keys(file_read_key_for_uid(picc.uid), uid=picc.uid, counter=picc.counter)
    expected = sdm_mac(keys.mac, mac_input=message.mac_input)
    if not hmac.compare_digest(expected, message.mac):
        raise InvalidSunMessage("bad_mac")
    file_data = None
    if message.enc_file_data is not None:
        # Decrypted only once authenticated: no decryption oracle on forged data.
        file_data = decrypt_file_data(
            keys.enc, counter=picc.counter, enc_file_data=message.enc_file_data
        )
    return VerifiedTap(uid=picc.uid, counter=picc.counter, file_data=file_data)


def build_sun_url(
    base_url: str,
    *,
    meta_read_key: bytes,
    file_read_key: bytes,
    uid: bytes,
    counter: int,
    file_data: bytes | None = None,
) -> str:
    """Emit the URL a card would for this tap (simulators, tests): ``base?e=…&c=…``.

    PICC data is 0xC7 || UID || counter (LE) || 5 random bytes, like the card's random padding,
    so two taps never share a ciphertext. With ``file_data`` (a multiple of 16 bytes) it emits
    ``e=…&enc=…&c=…`` and the MAC covers ``<enc hex>&c=``, as a card configured that way does.
    Hex is upper-case, as NTAG 424 DNA writes it.
    """
    _check_key(meta_read_key, "meta_read_key")
    _check_uid(uid)
    plain = bytes([_PICC_TAG_UID_AND_COUNTER]) + bytes(uid) + _counter_bytes(counter)
    plain += os.urandom(_BLOCK - len(plain))
    picc_data = _cbc(meta_read_key, bytes(_BLOCK), plain, encrypt=True)
    keys = session_keys(file_read_key, uid=uid, counter=counter)

    picc_hex = picc_data.hex().upper()
    if file_data is None:
        mac_input = ""
        query = f"e={picc_hex}&c="
    else:
        if not file_data or len(file_data) % _BLOCK:
            raise ValueError("file_data must be a non-empty multiple of 16 bytes")
        enc = _encrypt_file_data(keys.enc, counter=counter, file_data=file_data)
        mac_input = f"{enc.hex().upper()}&c="
        query = f"e={picc_hex}&enc={mac_input}"
    query += sdm_mac(keys.mac, mac_input=mac_input.encode("ascii")).hex().upper()
    if "?" not in base_url:
        separator = "?"
    elif base_url.endswith(("?", "&")):
        separator = ""
    else:
        separator = "&"
    return f"{base_url}{separator}{query}"
