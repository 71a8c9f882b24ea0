"""Public ids (in URLs, and the references residents give at a desk) are random and start with
a letter or a digit, never "-" or "_" (spreadsheets read "-…" as a formula)."""

from unittest import mock

from identity.models import new_public_id


def test_a_public_id_never_starts_with_a_sign():
    drawn = ["-abcdefghijklmnop", "_bcdefghijklmnop", "Qbcdefghijklmnop"]
    with mock.patch("identity.models.secrets.token_urlsafe", side_effect=drawn):
        assert new_public_id() == "Qbcdefghijklmnop"


def test_public_ids_are_random_and_16_characters_long():
    ids = {new_public_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(public_id) == 16 and public_id[0].isalnum() for public_id in ids)
