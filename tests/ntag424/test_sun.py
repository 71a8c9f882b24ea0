"""Specification of the NTAG 424 DNA SUN core (ntag424/sun.py).

Pure unit tests: no database, no Django settings. Known-answer values are copied here as
literals, each with its source, so the suite does not depend on any file outside the repo.
"""

from __future__ import annotations

import string

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from ntag424.sun import (
    MAX_URL_LENGTH,
    InvalidSunMessage,
    PiccData,
    SessionKeys,
    SunMessage,
    VerifiedTap,
    build_sun_url,
    decrypt_file_data,
    decrypt_picc_data,
    derive_card_file_read_key,
    derive_meta_read_key,
    diversify_key,
    parse_sun_url,
    sdm_mac,
    session_keys,
    verify_sun,
)

h = bytes.fromhex
ZERO_KEY = bytes(16)

# AN12196, SUN example with UID and counter mirrored (all keys zero):
# https://ntag.nxp.com/424?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086
AN12196_URL = "https://ntag.nxp.com/424?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086"
AN12196_E = h("EF963FF7828658A599F3041510671E88")
AN12196_C = h("94EED9EE65337086")
AN12196_UID = h("04DE5F1EACC040")
AN12196_COUNTER = 61

# AN12196, SUN example with encrypted file data mirrored (all keys zero). The MAC input is the
# ASCII text from the encrypted data up to and including '&cmac=', hence these parameter names.
AN12196_ENC_URL = (
    "https://example.org/ntag424?picc_data=FD91EC264309878BE6345CBE53BADF40"
    "&enc=CEE9A53E3E463EF1F459635736738962&cmac=ECC1E7F6C6C73BF6"
)
AN12196_ENC_MAC_INPUT = b"CEE9A53E3E463EF1F459635736738962&cmac="
AN12196_ENC_DATA = h("CEE9A53E3E463EF1F459635736738962")


def zero_key_for(uid: bytes) -> bytes:
    return ZERO_KEY


def flip_bit(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def picc_block(plain: bytes, key: bytes = ZERO_KEY) -> bytes:
    """What a card would write in ``e`` for this plaintext (AES-CBC, zero IV, one block)."""
    encryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    return encryptor.update(plain) + encryptor.finalize()


# --- primitives --------------------------------------------------------------------------------


def test_sdm_mac_is_the_odd_bytes_of_a_standard_aes_cmac() -> None:
    # NIST SP 800-38B, AES-128 CMAC example 2: CMAC = 070a16b4 6b4d4144 f79bdd9d d04a287c.
    # Bytes at indices 1, 3, ..., 15 of it: 0a b4 4d 44 9b 9d 4a 7c.
    key = h("2b7e151628aed2a6abf7158809cf4f3c")
    message = h("6bc1bee22e409f96e93d7e117393172a")
    assert sdm_mac(key, mac_input=message) == h("0ab44d449b9d4a7c")


def test_sdm_mac_over_an_empty_input() -> None:
    # AN12196: KSesSDMFileReadMAC 3FB5F6E3A807A03D5E3570ACE393776F, full CMAC over the empty
    # input E194C7EE12D9F7EE8A65C8331B704386, truncated to 94EED9EE65337086.
    assert sdm_mac(h("3FB5F6E3A807A03D5E3570ACE393776F"), mac_input=b"") == AN12196_C


def test_session_keys_follow_an12196() -> None:
    # AN12196, session key derivation example.
    keys = session_keys(h("5ACE7E50AB65D5D51FD5BF5A16B8205B"), uid=h("04C767F2066180"), counter=1)
    assert keys == SessionKeys(
        enc=h("66DA61797E23DECA5D8ECA13BBADF7A9"),
        mac=h("3A3E8110E05311F7A3FCF0D969BF2B48"),
    )


def test_session_keys_of_the_sun_examples() -> None:
    # AN12196, both SUN examples with all keys zero.
    assert session_keys(ZERO_KEY, uid=AN12196_UID, counter=61).mac == h(
        "3FB5F6E3A807A03D5E3570ACE393776F"
    )
    assert session_keys(ZERO_KEY, uid=h("04958CAA5C5E80"), counter=8).mac == h(
        "3ED0920E5E6A0320D823D5987FEAFBB1"
    )


def test_session_keys_reject_impossible_inputs() -> None:
    with pytest.raises(ValueError, match="uid"):
        session_keys(ZERO_KEY, uid=bytes(4), counter=1)
    with pytest.raises(ValueError, match="counter"):
        session_keys(ZERO_KEY, uid=AN12196_UID, counter=1 << 24)
    with pytest.raises(ValueError, match="counter"):
        session_keys(ZERO_KEY, uid=AN12196_UID, counter=-1)
    with pytest.raises(ValueError, match="k_sdm_file_read"):
        session_keys(bytes(15), uid=AN12196_UID, counter=1)


# --- PICC data -----------------------------------------------------------------------------------


def test_decrypt_picc_data_of_the_an12196_example() -> None:
    # AN12196: plaintext C7 04DE5F1EACC040 3D0000 DA5CF60941 -> UID, counter 0x3D = 61.
    assert decrypt_picc_data(ZERO_KEY, picc_data=AN12196_E) == PiccData(
        uid=AN12196_UID, counter=AN12196_COUNTER
    )


def test_decrypt_picc_data_reads_the_counter_little_endian() -> None:
    # AN12196 encrypted-file-data example: plaintext C7 04958CAA5C5E80 080000 A243C86DFC.
    assert decrypt_picc_data(ZERO_KEY, picc_data=h("FD91EC264309878BE6345CBE53BADF40")) == (
        PiccData(uid=h("04958CAA5C5E80"), counter=8)
    )
    block = picc_block(h("C7") + AN12196_UID + h("010203") + bytes(5))
    assert decrypt_picc_data(ZERO_KEY, picc_data=block).counter == 0x030201


@pytest.mark.parametrize("tag", [0x00, 0x87, 0x47, 0xC4, 0xC6, 0xC8, 0xCF, 0xFF])
def test_decrypt_picc_data_refuses_other_layouts(tag: int) -> None:
    # Only "UID and counter mirrored, 7-byte UID" (0xC7) is a layout Sésame cards use.
    block = picc_block(bytes([tag]) + AN12196_UID + h("3D0000") + bytes(5))
    with pytest.raises(InvalidSunMessage) as excinfo:
        decrypt_picc_data(ZERO_KEY, picc_data=block)
    assert excinfo.value.reason == "bad_picc_data"


def test_decrypt_picc_data_with_the_wrong_key_is_refused() -> None:
    with pytest.raises(InvalidSunMessage) as excinfo:
        decrypt_picc_data(b"\x01" * 16, picc_data=AN12196_E)
    assert excinfo.value.reason == "bad_picc_data"


# --- encrypted file data -------------------------------------------------------------------------


def test_decrypt_file_data_of_the_an12196_example() -> None:
    # AN12196: with all keys zero, UID 04958CAA5C5E80 and counter 8, CEE9…8962 decrypts to
    # sixteen 'x'.
    keys = session_keys(ZERO_KEY, uid=h("04958CAA5C5E80"), counter=8)
    plain = decrypt_file_data(keys.enc, counter=8, enc_file_data=AN12196_ENC_DATA)
    assert plain == b"xxxxxxxxxxxxxxxx"


def test_decrypt_file_data_depends_on_the_counter() -> None:
    # The IV is derived from the counter, so the wrong counter garbles the first block.
    keys = session_keys(ZERO_KEY, uid=h("04958CAA5C5E80"), counter=8)
    assert decrypt_file_data(keys.enc, counter=9, enc_file_data=AN12196_ENC_DATA) != (
        b"xxxxxxxxxxxxxxxx"
    )


def test_mac_over_encrypted_file_data_of_the_an12196_example() -> None:
    # AN12196: SDMMAC ECC1E7F6C6C73BF6 over the ASCII "CEE9…8962&cmac=".
    key = h("3ED0920E5E6A0320D823D5987FEAFBB1")
    assert sdm_mac(key, mac_input=AN12196_ENC_MAC_INPUT) == h("ECC1E7F6C6C73BF6")


# --- key diversification -----------------------------------------------------------------------


def test_diversify_key_matches_the_an10922_aes128_example() -> None:
    # NXP AN10922 "Symmetric key diversification", AES-128 example: master key
    # 00112233445566778899AABBCCDDEEFF, M = UID 04782E21801D80 || AID 3042F5 || system
    # identifier 4E585020416275 ("NXP Abu"), diversified key A8DD63A3B89D54B37CA802473FDA9175.
    # (17-byte M: the padded, K2 path of CMAC.)
    master = h("00112233445566778899AABBCCDDEEFF")
    m = h("04782E21801D80") + h("3042F5") + h("4E585020416275")
    assert diversify_key(master, diversification_input=m) == h("A8DD63A3B89D54B37CA802473FDA9175")


@pytest.mark.parametrize("length", [0, 32])
def test_diversify_key_refuses_inputs_an10922_does_not_define(length: int) -> None:
    with pytest.raises(ValueError, match="diversification_input"):
        diversify_key(ZERO_KEY, diversification_input=bytes(length))


def test_diversify_key_accepts_the_longest_an10922_input() -> None:
    # 31 bytes of M make a 32-byte, unpadded message (the K1 path): it must differ from the
    # same input one byte shorter, and be deterministic.
    a = diversify_key(ZERO_KEY, diversification_input=bytes(31))
    assert a == diversify_key(ZERO_KEY, diversification_input=bytes(31))
    assert a != diversify_key(ZERO_KEY, diversification_input=bytes(30))


MASTER = h("00112233445566778899AABBCCDDEEFF")


def test_derived_keys_are_stable() -> None:
    # Regression values computed by this module: cards are personalised with these keys, so
    # any change to the derivation would make every issued card fail verification.
    assert derive_meta_read_key(MASTER) == h("05428EAA53AF0BC29591A28368C4A3B6")
    assert derive_card_file_read_key(MASTER, uid=h("04782E21801D80")) == h(
        "36211397C434862D49FAE8639C47D38B"
    )


def test_meta_read_key_is_shared_and_card_keys_are_per_uid() -> None:
    uid_a, uid_b = h("04000000000001"), h("04000000000002")
    key_a = derive_card_file_read_key(MASTER, uid=uid_a)
    key_b = derive_card_file_read_key(MASTER, uid=uid_b)
    meta = derive_meta_read_key(MASTER)
    assert len({key_a, key_b, meta, MASTER}) == 4
    assert derive_meta_read_key(h("FF") * 16) != meta


# --- parsing -------------------------------------------------------------------------------------


def test_parse_the_an12196_url() -> None:
    assert parse_sun_url(AN12196_URL) == SunMessage(
        picc_data=AN12196_E, mac=AN12196_C, enc_file_data=None, mac_input=b""
    )


def test_parse_a_url_with_encrypted_file_data_keeps_the_exact_mac_input() -> None:
    message = parse_sun_url(AN12196_ENC_URL)
    assert message.picc_data == h("FD91EC264309878BE6345CBE53BADF40")
    assert message.enc_file_data == AN12196_ENC_DATA
    assert message.mac == h("ECC1E7F6C6C73BF6")
    assert message.mac_input == AN12196_ENC_MAC_INPUT


def test_mac_input_is_the_raw_text_between_the_data_and_the_mac() -> None:
    # The card MACs the characters it wrote, case and intervening parameters included.
    message = parse_sun_url("e=" + "ab" * 16 + "&enc=" + "cd" * 16 + "&v=2&c=" + "ef" * 8)
    assert message.mac_input == ("cd" * 16 + "&v=2&c=").encode()


@pytest.mark.parametrize(
    "text",
    [
        "e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086",
        "?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086",
        "c=94EED9EE65337086&e=EF963FF7828658A599F3041510671E88",
        "https://x.example/t?e=ef963ff7828658a599f3041510671e88&c=94eed9ee65337086",
        "https://x.example/t?v=1&picc_data=EF963FF7828658A599F3041510671E88&cmac=94EED9EE65337086",
        "https://x.example/t?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086&lang=fr",
    ],
)
def test_parse_accepts_bare_queries_aliases_case_order_and_extra_params(text: str) -> None:
    assert parse_sun_url(text) == SunMessage(picc_data=AN12196_E, mac=AN12196_C)


E = "EF963FF7828658A599F3041510671E88"
C = "94EED9EE65337086"
ENC = "CEE9A53E3E463EF1F459635736738962"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing_param"),
        ("https://x.example/t", "malformed"),
        ("https://x.example/t?", "missing_param"),
        (f"e={E}", "missing_param"),
        (f"c={C}", "missing_param"),
        (f"e={E}&e={E}&c={C}", "duplicate_param"),
        (f"e={E}&picc_data={E}&c={C}", "duplicate_param"),
        (f"e={E}&c={C}&cmac={C}", "duplicate_param"),
        (f"e={E}&enc={ENC}&enc={ENC}&c={C}", "duplicate_param"),
        (f"e={E[:-2]}&c={C}", "bad_length"),
        (f"e={E}00&c={C}", "bad_length"),
        (f"e={E}&c={C[:-1]}", "bad_length"),
        (f"e={E}&enc={ENC[:-2]}&c={C}", "bad_length"),
        (f"e={E}&enc={ENC}AB&c={C}", "bad_length"),
        (f"e=&c={C}", "not_hex"),
        (f"e={E}&enc=&c={C}", "not_hex"),
        (f"e={E[:-1]}G&c={C}", "not_hex"),
        (f"e=0x{E[2:]}&c={C}", "not_hex"),
        (f"e={E}&c=%39{C[1:]}", "not_hex"),
        (f"e={E}&c={C}+", "not_hex"),
        (f"e={E} &c={C}", "malformed"),
        (f"e={E}&c={C}\n", "malformed"),
        (f"e={E}&c={C}#x", "malformed"),
        (f"e={E}&c={C}&é=1", "malformed"),
        (f"e={E}&&c={C}", "malformed"),
        (f"e={E}&c={C}&flag", "malformed"),
        (f"e={E}&=1&c={C}", "malformed"),
        (f"e={E}&c={C}&enc={ENC}", "malformed"),  # the MAC cannot precede its input
        (f"e={E}&c={C}&pad=" + "a" * MAX_URL_LENGTH, "too_long"),
    ],
)
def test_parse_refuses_anything_a_card_would_not_emit(text: str, reason: str) -> None:
    with pytest.raises(InvalidSunMessage) as excinfo:
        parse_sun_url(text)
    assert excinfo.value.reason == reason


def test_invalid_sun_message_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="missing_param"):
        parse_sun_url("")


def test_parse_accepts_a_url_of_exactly_the_maximum_length() -> None:
    text = f"e={E}&c={C}&pad="
    text += "a" * (MAX_URL_LENGTH - len(text))
    assert parse_sun_url(text).mac == AN12196_C


# Hypothesis: whatever arrives over the network, the parser answers with a message or with
# InvalidSunMessage, never with another exception.

QUERY_ALPHABET = string.hexdigits + "&=?#%+ ecnmpidat_xZ\x00é"
PARAM_NAMES = st.sampled_from(["e", "c", "enc", "picc_data", "cmac", "x", "", "E", "cmac "])
PARAM_VALUES = st.one_of(
    st.text(alphabet=string.hexdigits, max_size=70),
    st.binary(min_size=0, max_size=40).map(bytes.hex),
    st.text(alphabet=QUERY_ALPHABET, max_size=40),
)


PARSE_REASONS = {
    "too_long",
    "malformed",
    "missing_param",
    "duplicate_param",
    "not_hex",
    "bad_length",
}


def parse_outcome(text: str) -> str:
    """The reason of the refusal, or "ok"; any other exception escapes and fails the test."""
    try:
        message = parse_sun_url(text)
    except InvalidSunMessage as error:
        return error.reason
    assert len(message.picc_data) == 16
    assert len(message.mac) == 8
    return "ok"


@given(st.text(max_size=1200))
def test_parse_arbitrary_text_only_raises_invalid_sun_message(text: str) -> None:
    assert parse_outcome(text) in PARSE_REASONS | {"ok"}


@given(
    prefix=st.sampled_from(["", "?", "https://x.example/t?", "https://x.example/t?v=1&"]),
    params=st.lists(st.tuples(PARAM_NAMES, st.sampled_from(["=", ""]), PARAM_VALUES), max_size=6),
)
def test_parse_arbitrary_queries_only_raises_invalid_sun_message(
    prefix: str, params: list[tuple[str, str, str]]
) -> None:
    text = prefix + "&".join(name + sep + value for name, sep, value in params)
    assert parse_outcome(text) in PARSE_REASONS | {"ok"}


def as_hex(data: bytes, upper: bool) -> str:
    return data.hex().upper() if upper else data.hex()


@given(
    picc=st.binary(min_size=16, max_size=16),
    mac=st.binary(min_size=8, max_size=8),
    enc=st.one_of(
        st.none(), st.integers(1, 4).flatmap(lambda n: st.binary(min_size=16 * n, max_size=16 * n))
    ),
    upper=st.booleans(),
    picc_name=st.sampled_from(["e", "picc_data"]),
    mac_name=st.sampled_from(["c", "cmac"]),
    prefix=st.sampled_from(["", "?", "https://x.example/t?", "https://x.example/t?v=1&"]),
)
def test_valid_messages_round_trip(
    picc: bytes,
    mac: bytes,
    enc: bytes | None,
    upper: bool,
    picc_name: str,
    mac_name: str,
    prefix: str,
) -> None:
    text = f"{prefix}{picc_name}={as_hex(picc, upper)}&"
    mac_input = ""
    if enc is not None:
        mac_input = f"{as_hex(enc, upper)}&{mac_name}="
        text += "enc=" + mac_input
    else:
        text += f"{mac_name}="
    text += as_hex(mac, upper)
    assert parse_sun_url(text) == SunMessage(
        picc_data=picc, mac=mac, enc_file_data=enc, mac_input=mac_input.encode()
    )


# --- verification --------------------------------------------------------------------------------


def test_verify_the_an12196_example() -> None:
    seen: list[bytes] = []

    def key_for(uid: bytes) -> bytes:
        seen.append(uid)
        return ZERO_KEY

    tap = verify_sun(AN12196_URL, meta_read_key=ZERO_KEY, file_read_key_for_uid=key_for)
    assert tap == VerifiedTap(uid=AN12196_UID, counter=AN12196_COUNTER, file_data=None)
    # The card key is looked up by the UID decrypted from the PICC data.
    assert seen == [AN12196_UID]


def test_verify_the_an12196_example_with_encrypted_file_data() -> None:
    tap = verify_sun(AN12196_ENC_URL, meta_read_key=ZERO_KEY, file_read_key_for_uid=zero_key_for)
    assert tap == VerifiedTap(uid=h("04958CAA5C5E80"), counter=8, file_data=b"x" * 16)


def test_verify_accepts_a_parsed_message() -> None:
    message = parse_sun_url(AN12196_URL)
    tap = verify_sun(message, meta_read_key=ZERO_KEY, file_read_key_for_uid=zero_key_for)
    assert tap.counter == AN12196_COUNTER


def test_verify_does_not_detect_replays() -> None:
    # Replay protection is the caller's job (counter against the database): the same URL
    # verifies twice with the same counter.
    first = verify_sun(AN12196_URL, meta_read_key=ZERO_KEY, file_read_key_for_uid=zero_key_for)
    again = verify_sun(AN12196_URL, meta_read_key=ZERO_KEY, file_read_key_for_uid=zero_key_for)
    assert first == again


@pytest.mark.parametrize("bit", range(64))
def test_every_single_bit_flip_of_the_mac_is_refused(bit: int) -> None:
    message = SunMessage(picc_data=AN12196_E, mac=flip_bit(AN12196_C, bit))
    with pytest.raises(InvalidSunMessage) as excinfo:
        verify_sun(message, meta_read_key=ZERO_KEY, file_read_key_for_uid=zero_key_for)
    assert excinfo.value.reason == "bad_mac"


@pytest.mark.parametrize("bit", range(128))
def test_every_single_bit_flip_of_the_picc_data_is_refused(bit: int) -> None:
    message = SunMessage(picc_data=flip_bit(AN12196_E, bit), mac=AN12196_C)
    with pytest.raises(InvalidSunMessage) as excinfo:
        verify_sun(message, meta_read_key=ZERO_KEY, file_read_key_for_uid=zero_key_for)
    assert excinfo.value.reason in {"bad_picc_data", "bad_mac"}


@pytest.mark.parametrize("bit", range(128))
def test_every_single_bit_flip_of_the_encrypted_file_data_is_refused(bit: int) -> None:
    tampered = flip_bit(AN12196_ENC_DATA, bit).hex().upper()
    url = AN12196_ENC_URL.replace(AN12196_ENC_DATA.hex().upper(), tampered)
    with pytest.raises(InvalidSunMessage) as excinfo:
        verify_sun(url, meta_read_key=ZERO_KEY, file_read_key_for_uid=zero_key_for)
    assert excinfo.value.reason == "bad_mac"


def test_mac_input_case_matters() -> None:
    # The card MACs the characters it wrote; a lower-cased copy is not what it signed.
    url = AN12196_ENC_URL.replace(ENC, ENC.lower())
    with pytest.raises(InvalidSunMessage) as excinfo:
        verify_sun(url, meta_read_key=ZERO_KEY, file_read_key_for_uid=zero_key_for)
    assert excinfo.value.reason == "bad_mac"


def test_dropping_the_encrypted_file_data_is_refused() -> None:
    # Removing enc changes the MAC input to empty: the original MAC no longer matches.
    url = AN12196_ENC_URL.replace(f"&enc={ENC}", "")
    with pytest.raises(InvalidSunMessage) as excinfo:
        verify_sun(url, meta_read_key=ZERO_KEY, file_read_key_for_uid=zero_key_for)
    assert excinfo.value.reason == "bad_mac"


def test_the_wrong_card_key_is_refused() -> None:
    with pytest.raises(InvalidSunMessage) as excinfo:
        verify_sun(
            AN12196_URL,
            meta_read_key=ZERO_KEY,
            file_read_key_for_uid=lambda uid: b"\x00" * 15 + b"\x01",
        )
    assert excinfo.value.reason == "bad_mac"


def test_errors_of_the_key_lookup_propagate() -> None:
    def unknown_card(uid: bytes) -> bytes:
        raise LookupError(uid.hex())

    with pytest.raises(LookupError, match=AN12196_UID.hex()):
        verify_sun(AN12196_URL, meta_read_key=ZERO_KEY, file_read_key_for_uid=unknown_card)


def test_verify_reports_parsing_errors() -> None:
    with pytest.raises(InvalidSunMessage) as excinfo:
        verify_sun("e=00", meta_read_key=ZERO_KEY, file_read_key_for_uid=zero_key_for)
    assert excinfo.value.reason == "missing_param"


# --- emission (simulators) -----------------------------------------------------------------------

UID = h("04A1B2C3D4E5F6")
META = derive_meta_read_key(MASTER)


def card_key(uid: bytes) -> bytes:
    return derive_card_file_read_key(MASTER, uid=uid)


@pytest.mark.parametrize("counter", [0, 1, 61, 0xFFFFFF])
def test_build_then_verify_round_trips(counter: int) -> None:
    url = build_sun_url(
        "https://sesame.example/t",
        meta_read_key=META,
        file_read_key=card_key(UID),
        uid=UID,
        counter=counter,
    )
    assert url.startswith("https://sesame.example/t?e=")
    assert verify_sun(url, meta_read_key=META, file_read_key_for_uid=card_key) == VerifiedTap(
        uid=UID, counter=counter, file_data=None
    )


def test_build_emits_upper_case_hex_in_the_card_layout() -> None:
    url = build_sun_url(
        "https://sesame.example/t",
        meta_read_key=META,
        file_read_key=card_key(UID),
        uid=UID,
        counter=7,
    )
    query = url.split("?", 1)[1]
    e_part, c_part = query.split("&")
    assert e_part.startswith("e=")
    assert c_part.startswith("c=")
    for part, hex_length in ((e_part, 32), (c_part, 16)):
        value = part[2:]
        assert len(value) == hex_length
        assert set(value) <= set("0123456789ABCDEF")


def test_build_uses_random_padding() -> None:
    # Same card, same counter: the PICC data still differs, like a real card's.
    urls = {
        build_sun_url(
            "https://sesame.example/t",
            meta_read_key=META,
            file_read_key=card_key(UID),
            uid=UID,
            counter=7,
        )
        for _ in range(4)
    }
    assert len(urls) == 4


def test_build_with_file_data_round_trips() -> None:
    file_data = b"SESAME-CARD-0001" * 2
    url = build_sun_url(
        "https://sesame.example/t?v=1",
        meta_read_key=META,
        file_read_key=card_key(UID),
        uid=UID,
        counter=12,
        file_data=file_data,
    )
    assert url.startswith("https://sesame.example/t?v=1&e=")
    assert "&enc=" in url
    tap = verify_sun(url, meta_read_key=META, file_read_key_for_uid=card_key)
    assert tap == VerifiedTap(uid=UID, counter=12, file_data=file_data)


@pytest.mark.parametrize("base", ["https://sesame.example/t?", "https://sesame.example/t?v=1&"])
def test_build_appends_to_a_base_that_already_opens_the_query(base: str) -> None:
    url = build_sun_url(base, meta_read_key=META, file_read_key=card_key(UID), uid=UID, counter=3)
    assert url.startswith(base + "e=")
    assert verify_sun(url, meta_read_key=META, file_read_key_for_uid=card_key).counter == 3


def test_a_url_built_with_another_cards_key_is_refused() -> None:
    other = h("04A1B2C3D4E5F7")
    url = build_sun_url(
        "https://sesame.example/t",
        meta_read_key=META,
        file_read_key=card_key(other),
        uid=UID,
        counter=5,
    )
    with pytest.raises(InvalidSunMessage) as excinfo:
        verify_sun(url, meta_read_key=META, file_read_key_for_uid=card_key)
    assert excinfo.value.reason == "bad_mac"


def test_a_url_built_with_another_territorys_meta_key_is_refused() -> None:
    url = build_sun_url(
        "https://sesame.example/t",
        meta_read_key=derive_meta_read_key(h("FF") * 16),
        file_read_key=card_key(UID),
        uid=UID,
        counter=5,
    )
    with pytest.raises(InvalidSunMessage):
        verify_sun(url, meta_read_key=META, file_read_key_for_uid=card_key)


def test_build_refuses_file_data_a_card_cannot_mirror() -> None:
    with pytest.raises(ValueError, match="file_data"):
        build_sun_url(
            "https://sesame.example/t",
            meta_read_key=META,
            file_read_key=card_key(UID),
            uid=UID,
            counter=1,
            file_data=b"short",
        )
