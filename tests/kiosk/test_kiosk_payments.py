"""The kiosk's money: after a tap, the wallet balance; a top-up or entries bought, paid on the
kiosk's card terminal (the demo's simulated one here), the receipt printed by the agent beside
the printer (a fake `lp` on PATH, a real subprocess) or mailed to the holder's account."""

import os
import stat
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from card.actions.taps import process_tap
from card.models import Tap
from kiosk import actions, queries
from kiosk.agent.agent import Agent
from kiosk.models import (
    DeviceStatus,
    KioskSession,
    KioskSettings,
    PrintJob,
    ReaderEvent,
    ScreenPairing,
)
from payments.models import Document, Order, Payment
from payments.queries import wallet_balance
from tests.factories import (
    CardFactory,
    ResidentFactory,
    priced_product,
    reading_english,
    site_administrator,
    sun_url,
)
from tests.kiosk.factories import agent_config, kiosk_reader_with_token, paired_screen
from tests.payments.factories import RegieFactory, wallet_regie
from tests.portal.test_words import words_problems

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


class Kiosk:
    """A paired kiosk screen, its reader, and a resident with a card."""

    def __init__(self, *, printer: str = "ok", with_account: bool = True):
        wallet_regie()
        self.reader, self.token = kiosk_reader_with_token()
        self.screen = reading_english(Client())
        paired_screen(self.screen, self.reader)
        self.holder = ResidentFactory(first_name="Léa", last_name="Martin")
        if not with_account:
            self.holder.user = None
            self.holder.save()
        self.card = CardFactory(holder=self.holder)
        self.counter = 0
        if printer:
            actions.record_heartbeat(
                reader=self.reader,
                agent_version="t",
                mode="kiosk",
                reader_connected=True,
                printer_status=printer,
            )

    def tap(self) -> Tap:
        self.counter += 1
        process_tap(
            reader=self.reader,
            credential=sun_url(self.card, self.counter),
            client_tap_id=f"k-{self.counter}",
            reader_time=timezone.now(),
        )
        return Tap.objects.filter(reader=self.reader).order_by("-pk").first()

    @property
    def url(self) -> str:
        return f"/borne/{self.reader.public_id}/"

    def press(self, tap: Tap, do: str, **fields):
        response = self.screen.post(
            self.url + "action/", {"tap": tap.pk, "do": do, **fields}, **HTMX
        )
        assert response.status_code == 200, response.status_code
        return response.content.decode()

    def poll(self) -> str:
        response = self.screen.get(self.url + "etat/")
        assert response.status_code == 200
        return response.content.decode()

    def session(self) -> KioskSession:
        return KioskSession.objects.get(reader=self.reader)


@pytest.fixture
def kiosk():
    return Kiosk()


def fake_lp(tmp_path, monkeypatch, *, exit_code: int = 0, message: str = "") -> tuple:
    """A fake CUPS `lp` on PATH: it records its arguments and copies the file it is given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "lp.log"
    printed = tmp_path / "printed.pdf"
    script = bin_dir / "lp"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{log}"\n'
        f'cp "$3" "{printed}"\n'
        + (f'echo "{message}" >&2\n' if message else "")
        + f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log, printed


def test_a_tap_shows_the_wallet_balance_and_what_to_do(kiosk):
    kiosk.tap()
    page = kiosk.screen.get(kiosk.url).content.decode()
    assert "My wallet" in page
    assert "0,00" in page
    assert "Top up my wallet" in page
    assert "Buy entries" in page
    assert "Martin" not in page


def test_the_whole_top_up_with_the_demo_terminal(
    kiosk, django_capture_on_commit_callbacks, tmp_path, monkeypatch
):
    tap = kiosk.tap()
    page = kiosk.press(tap, "topup")
    for amount in ("10,00", "20,00", "50,00"):
        assert amount in page
    page = kiosk.press(tap, "pay_topup", amount=2000)
    assert "data-kiosk-demo" in page  # the demo's buttons stand in for the terminal
    assert "Demo: approve" in page
    session = kiosk.session()
    assert session.step == KioskSession.Step.PAYING
    order = session.order
    assert order.channel == "kiosk"
    assert order.total_cents == 2000
    assert session.payment.status == Payment.Status.PENDING
    assert session.payment.provider == "demo"

    # Waiting for the terminal: no idle timeout, the card removed changes nothing.
    ReaderEvent.objects.create(
        reader=kiosk.reader,
        kind="card_removed",
        reader_time=timezone.now(),
        received_at=timezone.now(),
    )
    assert actions.tick(session=session, now=timezone.now() + timedelta(seconds=90)).step == (
        KioskSession.Step.PAYING
    )

    with django_capture_on_commit_callbacks(execute=True):
        page = kiosk.press(tap, "demo_approve")
    assert "Payment accepted" in page
    assert "20,00" in page
    assert wallet_balance(kiosk.holder.pk) == 2000
    with django_capture_on_commit_callbacks(execute=True):
        kiosk.press(tap, "demo_approve")  # a second press credits nothing more
    assert wallet_balance(kiosk.holder.pk) == 2000
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert Payment.objects.filter(order=order).count() == 1
    receipt = Document.objects.get(order=order, kind=Document.Kind.RECEIPT)

    # The receipt printed: queued once, however many presses.
    assert "Print the receipt" in page
    page = kiosk.press(tap, "print")
    assert "being printed" in page
    kiosk.press(tap, "print")
    job = PrintJob.objects.get()
    assert (job.reader, job.document, job.status) == (kiosk.reader, receipt, "pending")

    # The agent beside the printer fetches it and prints it with lp (a fake one on PATH).
    log, printed = fake_lp(tmp_path, monkeypatch)
    api = Client()
    agent = Agent(
        agent_config(
            tmp_path,
            server_url="http://testserver",
            token=kiosk.token,
            path="udp:127.0.0.1:9",
            mode="kiosk",
            printer="receipts",
        ),
        client=DjangoApiClient(api, kiosk.token),
    )
    assert agent.print_jobs() == 1
    assert log.read_text().startswith("-d receipts ")
    assert printed.read_bytes().startswith(b"%PDF")
    job.refresh_from_db()
    assert job.status == PrintJob.Status.DONE
    assert agent.status()["printer_status"] == "ok"
    assert agent.print_jobs() == 0  # nothing printed twice


def test_the_receipt_goes_only_to_the_accounts_address(kiosk, django_capture_on_commit_callbacks):
    tap = kiosk.tap()
    kiosk.press(tap, "pay_topup", amount=1000)
    with django_capture_on_commit_callbacks(execute=True):
        kiosk.press(tap, "demo_approve")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        page = kiosk.press(tap, "email")
    assert "sent to the email address of your account" in page
    assert kiosk.holder.user.email not in page  # never shown on the screen
    assert [message.to for message in mail.outbox] == [[kiosk.holder.user.email]]
    with django_capture_on_commit_callbacks(execute=True):
        kiosk.press(tap, "email")
    assert len(mail.outbox) == 1


def test_without_an_account_no_email_is_sent(django_capture_on_commit_callbacks):
    kiosk = Kiosk(with_account=False)
    tap = kiosk.tap()
    kiosk.press(tap, "pay_topup", amount=1000)
    with django_capture_on_commit_callbacks(execute=True):
        kiosk.press(tap, "demo_approve")
    mail.outbox.clear()
    page = kiosk.press(tap, "email")
    assert "no email address on your account" in page
    assert mail.outbox == []


def test_a_declined_card_credits_nothing_and_the_kiosk_goes_home(kiosk, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    tap = kiosk.tap()
    kiosk.press(tap, "pay_topup", amount=5000)
    page = kiosk.press(tap, "demo_decline")
    assert "declined" in page
    assert "Nothing was charged" in page
    session = kiosk.session()
    assert session.step == KioskSession.Step.FAILED
    assert session.payment.status == Payment.Status.FAILED
    assert session.order.status == Order.Status.CANCELLED
    assert wallet_balance(kiosk.holder.pk) == 0
    time_machine.shift(timedelta(seconds=7))
    assert 'data-kiosk-state="idle"' in kiosk.poll()
    assert kiosk.session().ended_at is not None
    # A late press on the old screen does nothing.
    kiosk.press(tap, "demo_approve")
    assert wallet_balance(kiosk.holder.pk) == 0


def test_cancel_at_the_terminal_credits_nothing(kiosk):
    tap = kiosk.tap()
    kiosk.press(tap, "pay_topup", amount=1000)
    page = kiosk.press(tap, "cancel")
    assert "cancelled" in page
    session = kiosk.session()
    assert session.payment.status == Payment.Status.CANCELLED
    assert session.order.status == Order.Status.CANCELLED
    assert wallet_balance(kiosk.holder.pk) == 0


def test_an_abandoned_payment_times_out_generously(kiosk, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    tap = kiosk.tap()
    kiosk.press(tap, "pay_topup", amount=1000)
    time_machine.shift(timedelta(minutes=2))
    assert "data-kiosk-paying" in kiosk.screen.get(kiosk.url).content.decode()
    time_machine.shift(queries.PAYMENT_WAIT)
    page = kiosk.poll()
    assert "No card was presented in time" in page
    session = kiosk.session()
    assert session.outcome == "timeout"
    assert session.payment.status == Payment.Status.CANCELLED
    time_machine.shift(timedelta(seconds=7))
    assert 'data-kiosk-state="idle"' in kiosk.poll()
    assert wallet_balance(kiosk.holder.pk) == 0


def test_a_double_submit_makes_one_order_and_one_payment(kiosk):
    tap = kiosk.tap()
    kiosk.press(tap, "topup")
    kiosk.press(tap, "pay_topup", amount=2000)
    kiosk.press(tap, "pay_topup", amount=2000)
    kiosk.press(tap, "pay_topup", amount=5000)  # a second finger on another amount
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1
    assert Order.objects.get().total_cents == 2000
    # A plain POST (no htmx) retried by the browser: the same.
    response = kiosk.screen.post(
        kiosk.url + "action/", {"tap": tap.pk, "do": "pay_topup", "amount": 2000}
    )
    assert response.status_code == 302
    assert Order.objects.count() == 1


def test_the_session_clears_after_30_seconds_or_when_the_card_is_removed(kiosk, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    tap = kiosk.tap()
    kiosk.press(tap, "topup")
    time_machine.shift(timedelta(seconds=20))
    kiosk.press(tap, "menu")  # activity
    time_machine.shift(timedelta(seconds=20))
    assert 'data-kiosk-step="menu"' in kiosk.poll()
    time_machine.shift(timedelta(seconds=11))
    assert 'data-kiosk-state="idle"' in kiosk.poll()

    tap = kiosk.tap()
    kiosk.press(tap, "topup")
    time_machine.shift(timedelta(seconds=6))
    actions.record_reader_event(
        reader=kiosk.reader, kind="card_removed", reader_time=timezone.now()
    )
    assert 'data-kiosk-state="idle"' in kiosk.poll()


def test_buying_entries_at_the_kiosk_uses_the_catalogue_price(
    kiosk, django_capture_on_commit_callbacks
):
    regie = RegieFactory(code="piscines")
    product = priced_product(price_cents=350, name="Entrée piscine adulte", regie_code=regie.code)
    priced_product(price_cents=900, facility_kind="library", regie_code=regie.code)
    tap = kiosk.tap()
    page = kiosk.press(tap, "buy")
    assert "Entrée piscine adulte" in page
    assert "3,50" in page
    assert "9,00" not in page  # not sold at this kind of facility
    kiosk.press(tap, "pay_product", product=product.code)
    session = kiosk.session()
    assert session.order.total_cents == 350
    assert session.order.channel == "kiosk"
    line = session.order.lines.get()
    assert line.explanation
    with django_capture_on_commit_callbacks(execute=True):
        page = kiosk.press(tap, "demo_approve")
    assert "Payment accepted" in page
    assert kiosk.holder.entitlements.filter(label="Entrée piscine adulte").exists()


def test_a_kiosk_with_stripe_needs_a_terminal(kiosk, settings):
    from payments.providers import stripe as stripe_provider

    settings.STRIPE_SECRET_KEY = "sk_test_x"
    assert stripe_provider.configured()
    tap = kiosk.tap()
    page = kiosk.press(tap, "pay_topup", amount=1000)
    assert "not available at this kiosk" in page
    assert Order.objects.count() == 0
    KioskSettings.objects.create(reader=kiosk.reader, payment_terminal_id="tmr_x")
    assert queries.terminal_of(kiosk.reader) == "tmr_x"


def test_a_printer_error_is_reported_in_the_heartbeat(kiosk, tmp_path, monkeypatch):
    tap = kiosk.tap()
    kiosk.press(tap, "pay_topup", amount=1000)
    kiosk.press(tap, "demo_approve")
    kiosk.press(tap, "print")
    fake_lp(tmp_path, monkeypatch, exit_code=1, message="lp: Out of paper")
    agent = Agent(
        agent_config(
            tmp_path,
            server_url="http://testserver",
            token=kiosk.token,
            path="udp:127.0.0.1:9",
            mode="kiosk",
            printer="receipts",
        ),
        client=DjangoApiClient(Client(), kiosk.token),
    )
    assert agent.print_jobs() == 0
    job = PrintJob.objects.get()
    assert job.status == PrintJob.Status.FAILED
    assert "Out of paper" in job.error
    assert agent.status()["printer_status"] == "paper_out"
    agent.heartbeat()
    kiosk.reader.device_status.refresh_from_db()
    assert kiosk.reader.device_status.printer_status == "paper_out"


def test_a_driver_error_with_nul_characters_still_reaches_the_server(kiosk, tmp_path):
    agent = Agent(
        agent_config(
            tmp_path,
            server_url="http://testserver",
            token=kiosk.token,
            path="udp:127.0.0.1:9",
            mode="kiosk",
        ),
        client=DjangoApiClient(Client(), kiosk.token),
    )
    agent.last_error = "reader\x00 lost"
    assert agent.heartbeat() is not None
    kiosk.reader.device_status.refresh_from_db()
    assert kiosk.reader.device_status.last_error == "reader lost"


class DjangoApiClient:
    """The agent's client, speaking to the test server through Django's test client (the
    agent's real HTTP client is exercised end to end in test_agent_end_to_end.py)."""

    def __init__(self, client: Client, token: str):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def _json(self, response):
        assert response.status_code == 200, response.content
        return response.json()

    def print_jobs(self):
        return self._json(self.client.get("/api/v1/kiosk/print-jobs", **self.headers))["jobs"]

    def print_done(self, job_id, *, ok, error=""):
        return self._json(
            self.client.post(
                f"/api/v1/kiosk/print-jobs/{job_id}/done",
                {"ok": ok, "error": error},
                content_type="application/json",
                **self.headers,
            )
        )

    def heartbeat(self, status):
        return self._json(
            self.client.post(
                "/api/v1/kiosk/heartbeat", status, content_type="application/json", **self.headers
            )
        )


@pytest.mark.django_db(transaction=True)
def test_the_real_agent_prints_over_http_with_lp(live_server, tmp_path, monkeypatch):
    """The agent's own HTTP client against a live server: fetch the job, `lp` (a fake one on
    PATH, a real subprocess), report it done, and the printer's state in the heartbeat."""
    kiosk = Kiosk(printer="unknown")
    tap = kiosk.tap()
    kiosk.press(tap, "pay_topup", amount=1000)
    kiosk.press(tap, "demo_approve")
    kiosk.press(tap, "print")
    log, printed = fake_lp(tmp_path, monkeypatch)
    agent = Agent(
        agent_config(
            tmp_path,
            server_url=live_server.url,
            token=kiosk.token,
            path="udp:127.0.0.1:9",
            mode="kiosk",
            printer="receipts",
        )
    )
    assert agent.print_jobs() == 1
    assert printed.read_bytes().startswith(b"%PDF")
    assert "-d receipts" in log.read_text()
    assert PrintJob.objects.get().status == PrintJob.Status.DONE
    assert agent.heartbeat() is not None
    kiosk.reader.device_status.refresh_from_db()
    assert kiosk.reader.device_status.printer_status == "ok"


@pytest.mark.parametrize("code", ["unknown", ""])  # a NUL: tests/portal/test_site.py
def test_a_product_code_not_offered_here_is_a_message_and_buys_nothing(kiosk, code):
    """Whatever is posted as the product (a NUL: PostgreSQL refuses it in a query) is never
    looked up: the screen says it is not sold here, nothing is ordered."""
    RegieFactory(code="piscines")
    priced_product(price_cents=350, name="Entrée piscine adulte", regie_code="piscines")
    tap = kiosk.tap()
    kiosk.press(tap, "buy")
    page = kiosk.press(tap, "pay_product", product=code)
    assert "This product is not sold here." in page
    assert not Order.objects.exists()


def test_the_administration_names_a_kiosks_rows_in_french_words(kiosk, settings):
    """The admin's titles of a kiosk's rows (its state, screen pairing, sessions, settings and
    print jobs) read as words: the kiosk's name and a time, never "print job <random id>"."""
    settings.LANGUAGE_CODE = "fr"
    tap = kiosk.tap()
    kiosk.press(tap, "topup")
    kiosk.press(tap, "pay_topup", amount=2000)
    kiosk.press(tap, "demo_approve")
    kiosk.press(tap, "print")
    KioskSettings.objects.create(reader=kiosk.reader)
    administrator = site_administrator()
    admin = Client()
    admin.force_login(administrator)
    receipt = Document.objects.get(kind=Document.Kind.RECEIPT)
    rows = {
        DeviceStatus.objects.get(): f"État de {kiosk.reader.name}",
        ScreenPairing.objects.get(): f"Appairage de l’écran de {kiosk.reader.name}, ",
        KioskSession.objects.get(): f"Passage à {kiosk.reader.name}, ",
        KioskSettings.objects.get(): f"Réglages de {kiosk.reader.name}",
        PrintJob.objects.get(): f"Reçu {receipt.reference} à {kiosk.reader.name}",
    }
    problems = {}
    for row, title in rows.items():
        options = row._meta
        response = admin.get(f"/admin/{options.app_label}/{options.model_name}/{row.pk}/change/")
        assert response.status_code == 200
        html = response.content.decode()
        assert title in html
        if found := words_problems(html):
            problems[options.model_name] = found
    assert problems == {}, problems
