"""The staff desk screen: an agent checks cards at their access point — taps from the reader
there, a phone pass scanned by the device camera, a card number typed by hand — and records a
manual entry when the card is forgotten."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from card.actions.desk import record_manual_entry, staff_check
from card.actions.taps import process_tap
from card.credentials import phone_pass_payload
from card.models import Card, Tap
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, Facility, StaffRole
from identity.permissions import Capability, has_capability
from services.catalog.models import AccessPoint
from tests.card.factories import photo_upload
from tests.factories import (
    AccessPointFactory,
    CardFactory,
    EntitlementFactory,
    FacilityFactory,
    PhonePassFactory,
    ResidentFactory,
    UserFactory,
    card_number,
    reader_with_token,
    staff_user,
    sun_url,
)

pytestmark = pytest.mark.django_db

Role = StaffRole.Role
HX = {"HX-Request": "true"}


# --- Building blocks ---------------------------------------------------------------------------


def typing_slip(number: str) -> str:
    """The same number with its check digit wrong: what a slip of the finger gives."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def make_card(*, n: int, kind: str = Card.Kind.NFC, **fields) -> Card:
    """The card numbered `n` (a number the test can type), held by Camille unless told."""
    if "holder" not in fields:
        fields["holder"] = ResidentFactory(first_name="Camille", last_name="Zacharie-Desrosiers")
    factory = PhonePassFactory if kind == Card.Kind.PHONE else CardFactory
    return factory(number=card_number(n), **fields)


@pytest.fixture
def pool_a():
    return FacilityFactory(name="Piscine Alpha", kind=Facility.Kind.POOL)


@pytest.fixture
def pool_b():
    return FacilityFactory(name="Piscine Bêta", kind=Facility.Kind.POOL)


@pytest.fixture
def entrance_a(pool_a):
    return AccessPointFactory(facility=pool_a, name="Entrée Alpha")


@pytest.fixture
def entrance_b(pool_b):
    return AccessPointFactory(facility=pool_b, name="Entrée Bêta")


@pytest.fixture
def agent(pool_a):
    return staff_user(Role.POOL_AGENT, facility=pool_a)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def desk_url(point: AccessPoint, name: str = "desk") -> str:
    return reverse(f"card:{name}", args=[point.public_id])


def decision_of(html: str) -> str | None:
    match = re.search(r'data-decision="(\w+)"', html)
    return match.group(1) if match else None


# --- Who sees which desk ---------------------------------------------------------------------


def test_a_pool_agent_sees_only_the_desks_of_their_pool(agent_client, entrance_a, entrance_b):
    exit_a = AccessPointFactory(
        facility=entrance_a.facility, name="Sortie Alpha", kind=AccessPoint.Kind.EXIT
    )
    listing = agent_client.get(reverse("card:desk_list"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert desk_url(entrance_a) in html
    assert desk_url(exit_a) in html
    assert desk_url(entrance_b) not in html
    assert "Piscine Bêta" not in html

    assert agent_client.get(desk_url(entrance_a)).status_code == 200
    assert agent_client.get(desk_url(entrance_b)).status_code == 403
    assert agent_client.get(desk_url(entrance_b, "desk_latest")).status_code == 403
    card = make_card(n=1)
    EntitlementFactory(holder=card.holder)
    refused = agent_client.post(desk_url(entrance_b, "desk_check"), {"credential": card.number})
    assert refused.status_code == 403
    assert not Tap.objects.exists()


def test_a_town_wide_clerk_sees_every_desk_and_a_finance_officer_none(
    client, entrance_a, entrance_b
):
    client.force_login(staff_user(Role.CLERK))
    html = client.get(reverse("card:desk_list")).content.decode()
    assert desk_url(entrance_a) in html
    assert desk_url(entrance_b) in html
    client.force_login(staff_user(Role.FINANCE_OFFICER))
    assert client.get(reverse("card:desk_list")).status_code == 403
    assert client.get(desk_url(entrance_a)).status_code == 403


def test_a_resident_and_a_visitor_cannot_open_a_desk(client, entrance_a):
    assert client.get(desk_url(entrance_a)).status_code == 302  # to the login form
    # A poll after the session ended sends the whole page, not a fragment, to the login form.
    poll = client.get(desk_url(entrance_a, "desk_latest"), headers=HX)
    assert poll.headers["HX-Redirect"].startswith(reverse("account_login"))
    client.force_login(ResidentFactory().user)
    assert client.get(desk_url(entrance_a)).status_code == 403


def test_a_librarian_cannot_record_anything_at_the_pool(client, entrance_a):
    library = FacilityFactory(name="Médiathèque", kind=Facility.Kind.LIBRARY)
    librarian = staff_user(Role.LIBRARIAN, facility=library)
    card = make_card(n=2)
    EntitlementFactory(holder=card.holder)

    with pytest.raises(Forbidden):
        staff_check(actor=librarian, access_point=entrance_a, credential=card.number)
    with pytest.raises(Forbidden):
        record_manual_entry(actor=librarian, access_point=entrance_a, reason="Carte oubliée")

    client.force_login(librarian)
    manual = client.post(desk_url(entrance_a, "desk_manual_entry"), {"reason": "Carte oubliée"})
    assert manual.status_code == 403
    check = client.post(desk_url(entrance_a, "desk_check"), {"credential": card.number})
    assert check.status_code == 403
    assert not Tap.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="tap.").exists()
    assert card.holder.entitlements.get().entries_left == 10


# --- A typed card number ---------------------------------------------------------------------


def test_a_typed_number_of_an_active_card_is_granted_and_consumes_one_entry(
    agent_client, agent, entrance_a
):
    card = make_card(n=3)
    book = EntitlementFactory(holder=card.holder)
    # Staff type it the way it is printed: in groups of four.
    typed = " ".join(card.number[i : i + 4] for i in range(0, 16, 4))
    response = agent_client.post(desk_url(entrance_a, "desk_check"), {"credential": typed})
    assert response.status_code == 302
    assert response.url == desk_url(entrance_a)

    book.refresh_from_db()
    assert book.entries_left == 9
    tap = Tap.objects.get()
    assert (tap.granted, tap.reason, tap.credential) == (True, "granted", Tap.Credential.NUMBER)
    assert (tap.card, tap.holder, tap.staff, tap.reader) == (card, card.holder, agent, None)
    assert tap.access_point == entrance_a
    assert re.fullmatch(r"[0-9a-f]{32}", tap.client_tap_id)  # a fresh uuid
    assert tap.response["entitlement"]["remaining"] == 9

    page = agent_client.get(desk_url(entrance_a)).content.decode()
    assert decision_of(page) == "granted"
    assert "Camille" in page


def test_two_typed_checks_get_two_taps_and_two_entries(agent, entrance_a):
    card = make_card(n=4)
    book = EntitlementFactory(holder=card.holder)
    first = staff_check(actor=agent, access_point=entrance_a, credential=card.number)
    second = staff_check(actor=agent, access_point=entrance_a, credential=card.number)
    assert first["tap_id"] != second["tap_id"]
    assert (first["entitlement"]["remaining"], second["entitlement"]["remaining"]) == (9, 8)
    book.refresh_from_db()
    assert book.entries_left == 8


@pytest.mark.parametrize("slip", ["luhn", "short", "letters"])
def test_a_typing_slip_shows_a_message_and_records_nothing(agent_client, entrance_a, slip):
    card = make_card(n=5)
    book = EntitlementFactory(holder=card.holder)
    typed = {
        "luhn": typing_slip(card.number),
        "short": card.number[:-1],
        "letters": "9250-ABCD",
    }[slip]
    page = agent_client.post(desk_url(entrance_a, "desk_check"), {"credential": typed})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="desk-credential-error"' in html
    assert 'aria-invalid="true"' in html
    assert typed in html  # kept in the field, to be corrected

    fragment = agent_client.post(
        desk_url(entrance_a, "desk_check"), {"credential": typed}, headers=HX
    )
    assert decision_of(fragment.content.decode()) == "slip"
    assert 'data-error-field="credential"' in fragment.content.decode()

    assert not Tap.objects.exists()
    assert not AuditEntry.objects.exists()
    book.refresh_from_db()
    assert book.entries_left == 10


def test_a_luhn_slip_is_caught_before_any_look_up(agent, entrance_a, django_assert_num_queries):
    has_capability(agent, Capability.SCAN_CARDS)  # loads the roles (cached on the user)
    with django_assert_num_queries(0), pytest.raises(DomainError) as refused:
        staff_check(actor=agent, access_point=entrance_a, credential=typing_slip(card_number(1)))
    assert (refused.value.code, refused.value.field) == ("invalid_card_number", "credential")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Card.Status.SUSPENDED, "card_suspended"),
        (Card.Status.REVOKED, "card_revoked"),
        (Card.Status.REPLACED, "card_replaced"),
        (Card.Status.PRODUCED, "card_not_active"),
    ],
)
def test_the_number_of_a_card_that_is_not_active_is_refused(
    agent_client, agent, entrance_a, status, reason
):
    card = make_card(n=6, status=status)
    book = EntitlementFactory(holder=card.holder)
    response = agent_client.post(
        desk_url(entrance_a, "desk_check"), {"credential": card.number}, headers=HX
    )
    html = response.content.decode()
    assert decision_of(html) == "refused"
    tap = Tap.objects.get()
    assert (tap.granted, tap.reason, tap.credential) == (False, reason, Tap.Credential.NUMBER)
    assert (tap.card, tap.staff) == (card, agent)
    book.refresh_from_db()
    assert book.entries_left == 10
    if reason == "card_suspended":
        audit = AuditEntry.objects.get(action="tap.refused.card_suspended")
        assert (audit.actor, audit.person, audit.channel) == (agent, card.holder, "counter")


def test_an_expired_or_unknown_number_is_refused_and_recorded(agent, entrance_a):
    card = make_card(n=7, expires_on=timezone.localdate() - timedelta(days=1))
    EntitlementFactory(holder=card.holder)
    assert staff_check(actor=agent, access_point=entrance_a, credential=card.number)["reason"] == (
        "card_expired"
    )
    unknown = staff_check(actor=agent, access_point=entrance_a, credential=card_number(999))
    assert (unknown["granted"], unknown["reason"], unknown["holder"]) == (
        False,
        "unknown_card",
        None,
    )
    assert Tap.objects.filter(credential=Tap.Credential.NUMBER).count() == 2


def test_a_number_without_entitlement_for_this_facility_is_refused(agent, entrance_a):
    card = make_card(n=8)
    EntitlementFactory(holder=card.holder, facility_kind=Facility.Kind.LIBRARY)
    answer = staff_check(actor=agent, access_point=entrance_a, credential=card.number)
    assert (answer["granted"], answer["reason"]) == (False, "no_entitlement")


# --- A phone pass scanned by the camera ------------------------------------------------------


def test_a_phone_pass_qr_is_granted_once_and_the_same_qr_again_is_a_replay(
    agent_client, agent, entrance_a
):
    card = make_card(n=9, kind=Card.Kind.PHONE)
    book = EntitlementFactory(holder=card.holder)
    qr = phone_pass_payload(card.number, timezone.now())

    first = agent_client.post(desk_url(entrance_a, "desk_check"), {"credential": qr}, headers=HX)
    assert decision_of(first.content.decode()) == "granted"
    again = agent_client.post(desk_url(entrance_a, "desk_check"), {"credential": qr}, headers=HX)
    assert decision_of(again.content.decode()) == "refused"

    taps = list(Tap.objects.order_by("pk"))
    assert [(t.granted, t.reason) for t in taps] == [(True, "granted"), (False, "replay")]
    assert {t.credential for t in taps} == {Tap.Credential.PHONE}
    assert {t.staff for t in taps} == {agent}
    assert {t.reader for t in taps} == {None}
    book.refresh_from_db()
    assert book.entries_left == 9
    audit = AuditEntry.objects.get(action="tap.refused.replay")
    assert (audit.actor, audit.channel) == (agent, "counter")
    assert audit.target == f"access_point:{entrance_a.public_id}"


def test_a_forged_or_stale_qr_is_refused(agent, entrance_a):
    card = make_card(n=10, kind=Card.Kind.PHONE)
    EntitlementFactory(holder=card.holder)
    genuine = phone_pass_payload(card.number, timezone.now())
    forged = genuine[:-1] + ("A" if genuine[-1] != "A" else "B")
    assert staff_check(actor=agent, access_point=entrance_a, credential=forged)["reason"] == (
        "invalid_credential"
    )
    old = phone_pass_payload(card.number, timezone.now() - timedelta(minutes=10))
    assert staff_check(actor=agent, access_point=entrance_a, credential=old)["reason"] == (
        "expired_credential"
    )
    assert not Tap.objects.filter(granted=True).exists()


def test_text_that_is_neither_a_number_nor_a_pass_records_nothing(agent, entrance_a):
    for text in ["", "   ", "bonjour", "S2.abc"]:
        with pytest.raises(DomainError):
            staff_check(actor=agent, access_point=entrance_a, credential=text)
    assert not Tap.objects.exists()


# --- A manual entry --------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "oubl", "  a   b  "])
def test_a_manual_entry_needs_a_reason(agent_client, agent, entrance_a, reason):
    with pytest.raises(DomainError) as refused:
        record_manual_entry(actor=agent, access_point=entrance_a, reason=reason)
    assert refused.value.field == "reason"
    page = agent_client.post(desk_url(entrance_a, "desk_manual_entry"), {"reason": reason})
    assert page.status_code == 200
    assert 'id="desk-reason-error"' in page.content.decode()
    assert not Tap.objects.exists()
    assert not AuditEntry.objects.filter(action="tap.manual_entry").exists()


def test_a_manual_entry_consumes_nothing_and_is_audited(agent_client, agent, entrance_a):
    card = make_card(n=11)
    book = EntitlementFactory(holder=card.holder)
    response = agent_client.post(
        desk_url(entrance_a, "desk_manual_entry"),
        {"reason": "Carte oubliée, connue de l'accueil", "card_number": card.number},
    )
    assert response.status_code == 302
    tap = Tap.objects.get()
    assert (tap.granted, tap.reason, tap.credential) == (True, "manual_entry", "manual")
    assert (tap.staff, tap.staff_reason) == (agent, "Carte oubliée, connue de l'accueil")
    assert (tap.card, tap.holder, tap.reader) == (card, card.holder, None)
    assert tap.response["entitlement"] is None
    book.refresh_from_db()
    assert book.entries_left == 10
    audit = AuditEntry.objects.get(action="tap.manual_entry")
    assert (audit.actor, audit.person, audit.reason, audit.channel) == (
        agent,
        card.holder,
        "Carte oubliée, connue de l'accueil",
        "counter",
    )
    assert audit.target == f"access_point:{entrance_a.public_id}"


def test_a_manual_entry_without_a_card_number_names_nobody(agent, entrance_a):
    answer = record_manual_entry(actor=agent, access_point=entrance_a, reason="Enfant sans carte")
    assert (answer["granted"], answer["reason"], answer["holder"]) == (True, "manual_entry", None)
    tap = Tap.objects.get()
    assert (tap.card, tap.holder) == (None, None)
    assert AuditEntry.objects.get(action="tap.manual_entry").person is None


def test_a_manual_entry_with_a_mistyped_number_records_nothing(agent, entrance_a):
    card = make_card(n=12)
    for typed in [typing_slip(card.number), card_number(998)]:
        with pytest.raises(DomainError) as refused:
            record_manual_entry(
                actor=agent, access_point=entrance_a, reason="Carte oubliée", card_number=typed
            )
        assert refused.value.field == "card_number"
    assert not Tap.objects.exists()


def test_a_manual_entry_for_a_suspended_card_is_flagged(agent, entrance_a):
    card = make_card(n=13, status=Card.Status.SUSPENDED)
    answer = record_manual_entry(
        actor=agent, access_point=entrance_a, reason="Carte perdue", card_number=card.number
    )
    assert answer["granted"] is True
    assert answer["flags"] == ["card_suspended"]


# --- The live screen -------------------------------------------------------------------------


def test_the_desk_shows_the_newest_tap_of_a_reader_there_with_the_first_name_only(
    agent_client, entrance_a, entrance_b
):
    holder_user = UserFactory(email="camille.secret@example.org")
    holder = ResidentFactory(user=holder_user, first_name="Camille", last_name="Zacharie")
    card = make_card(n=14, holder=holder)
    EntitlementFactory(holder=holder)
    process_tap(
        reader=reader_with_token(access_point=entrance_a)[0],
        credential=sun_url(card, 1),
        client_tap_id="gate-1",
        reader_time=timezone.now(),
    )
    # A tap at another pool's entrance is not this desk's business.
    other = make_card(n=15, holder=ResidentFactory(first_name="Dominique"))
    EntitlementFactory(holder=other.holder)
    process_tap(
        reader=reader_with_token(access_point=entrance_b)[0],
        credential=sun_url(other, 1),
        client_tap_id="gate-2",
        reader_time=timezone.now(),
    )
    newest = Tap.objects.get(client_tap_id="gate-1")

    for html in [
        agent_client.get(desk_url(entrance_a, "desk_latest")).content.decode(),
        agent_client.get(desk_url(entrance_a)).content.decode(),
    ]:
        assert decision_of(html) == "granted"
        assert f'data-tap="{newest.pk}"' in html
        assert "Camille" in html
        assert "Zacharie" not in html
        assert "camille.secret@example.org" not in html
        assert "Dominique" not in html
        assert "9 left" in html or "9 restant" in html

    # Nothing newer: the poll answers 204, htmx swaps nothing (no re-announcement).
    idle = agent_client.get(desk_url(entrance_a, "desk_latest"), {"since": newest.pk})
    assert idle.status_code == 204
    process_tap(
        reader=reader_with_token(access_point=entrance_a)[0],
        credential=sun_url(card, 1),  # the same message again: a cloned card
        client_tap_id="gate-3",
        reader_time=timezone.now(),
    )
    fresh = agent_client.get(desk_url(entrance_a, "desk_latest"), {"since": newest.pk})
    assert fresh.status_code == 200
    assert decision_of(fresh.content.decode()) == "refused"
    assert 'hx-swap-oob="true"' in fresh.content.decode()  # the history follows


def test_the_photo_is_shown_through_a_signed_url_only_when_the_card_has_one(
    agent_client, entrance_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with_photo = make_card(n=16, photo=photo_upload("photo.png", fmt="PNG", size=(30, 40)))
    without = make_card(n=17, holder=ResidentFactory(first_name="Sacha"))
    for card in (with_photo, without):
        EntitlementFactory(holder=card.holder)

    agent_client.post(desk_url(entrance_a, "desk_check"), {"credential": with_photo.number})
    html = agent_client.get(desk_url(entrance_a)).content.decode()
    src = re.search(r'<img class="desk-photo" src="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert src.startswith(reverse("card:photo", args=[with_photo.public_id]) + "?s=")
    assert agent_client.get(src).status_code == 200
    assert agent_client.get(src.split("?")[0]).status_code == 403  # the signature is the key

    agent_client.post(desk_url(entrance_a, "desk_check"), {"credential": without.number})
    html = agent_client.get(desk_url(entrance_a)).content.decode()
    assert "Sacha" in html
    assert "desk-photo" not in html


def test_the_history_holds_the_last_ten_taps(agent, agent_client, entrance_a):
    card = make_card(n=18)
    EntitlementFactory(holder=card.holder, entries=20)
    for _ in range(12):
        staff_check(actor=agent, access_point=entrance_a, credential=card.number)
    html = agent_client.get(desk_url(entrance_a)).content.decode()
    history = html.split('id="desk-history"', 1)[1]
    assert history.count("<tr class=") == 10


def test_a_staff_input_sent_by_htmx_answers_with_its_own_decision(agent_client, entrance_a):
    card = make_card(n=19)
    EntitlementFactory(holder=card.holder)
    response = agent_client.post(
        desk_url(entrance_a, "desk_check"), {"credential": card.number}, headers=HX
    )
    html = response.content.decode()
    tap = Tap.objects.get()
    assert f'data-tap="{tap.pk}"' in html
    assert f'id="desk-since" name="since" value="{tap.pk}"' in html
    assert "<html" not in html  # a fragment, not a page


def test_the_desk_page_has_no_inline_script_or_style(agent_client, entrance_a):
    """The Content-Security-Policy would block them (script-src and style-src 'self')."""
    html = agent_client.get(desk_url(entrance_a)).content.decode()
    assert 'aria-live="assertive"' in html
    assert 'hx-trigger="every 2s"' in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert " style=" not in html
    assert re.search(r"\son[a-z]+=", html) is None
    assert "/static/card/desk.js" in html
