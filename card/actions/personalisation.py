"""What the encoding station writes on a produced card's chip: the NDEF URL template and the
card's SDM keys."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.errors import Conflict
from identity.models import User
from identity.permissions import Capability

from .. import keys
from ..models import Card
from .guards import audit_card, locked_card, require_capability, require_status

Status = Card.Status

# The NDEF URL written on a chip: the card's web address, then placeholders the chip overwrites
# at every read with its encrypted PICC data (UID and counter: 16 bytes, 32 hex digits) and the
# SDMMAC (8 bytes, 16 hex digits). ntag424.sun.parse_sun_url reads them back.
PICC_DATA_PLACEHOLDER = "0" * 32
SDM_MAC_PLACEHOLDER = "0" * 16
PERSONALISATION_FORMAT = "sesame-card-personalisation/1"


def ndef_url_template() -> str:
    base = settings.SESAME_CARD_URL
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}e={PICC_DATA_PLACEHOLDER}&c={SDM_MAC_PLACEHOLDER}"


@transaction.atomic
def export_personalisation(*, actor: User, card: Card) -> dict:
    """What the encoding station writes on a produced card's chip: the NDEF URL template and
    the two SDM keys (hex). Key material leaves the server here, so: clerks only, produced
    cards only (a card handed over is never re-keyed from the desk: a new chip is a
    replacement), and every export is audited."""
    require_capability(actor, Capability.EDIT_RESIDENT_FILE)
    card = locked_card(card)
    if card.kind != Card.Kind.NFC:
        raise Conflict(_("A phone pass has no chip to encode."))
    require_status(card, {Status.PRODUCED})
    template = ndef_url_template()
    data = {
        "format": PERSONALISATION_FORMAT,
        "card_number": card.number,
        "uid": card.uid,
        "key_version": card.key_version,
        "ndef_url_template": template,
        # Character offsets in the URL; the station adds its NDEF record header's length.
        "picc_data_offset_in_url": template.rindex("e=" + PICC_DATA_PLACEHOLDER) + 2,
        "sdm_mac_offset_in_url": template.rindex("c=" + SDM_MAC_PLACEHOLDER) + 2,
        "sdm_file_read_key": keys.card_file_read_key(bytes.fromhex(card.uid)).hex().upper(),
        "sdm_meta_read_key": keys.meta_read_key().hex().upper(),
        "master_key_fingerprint": keys.key_fingerprint(),
        "exported_at": timezone.now().isoformat(),
    }
    audit_card(actor, card, "personalisation_exported", by_staff=True)
    return data
