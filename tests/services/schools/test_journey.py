"""School pre-enrolment in a real browser (Debian's chromium): a parent pre-enrols their child
on a phone (390 px), seeing the school of their address as they fill the form and making a
sworn statement in place of a proof of address; a clerk sees the places and accepts the file
in the queue; the parent downloads the certificate of enrolment; the school service downloads
the school's list from the admin. No sideways scroll, no script error, no CSP violation."""

import base64
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader
from selenium.webdriver.common.by import By

from identity.models import AuditEntry
from identity.schooling.models import Enrolment
from services.procedures.models import ProcedureFile
from services.schools.procedures import KEY
from tests.browser import fits_a_phone, log_in, severe_console_errors, wait_for_text
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import CommuneFactory, site_administrator, staff_user

from .factories import SchoolFactory, family, places, school_year, segment, street

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PARIS = ZoneInfo("Europe/Paris")

# The browser's own fetch, in the signed-in session: the bytes of a download, base64.
FETCH = """
const [url, formSelector, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const options = formSelector
  ? {method: "POST", body: new FormData(document.querySelector(formSelector))}
  : {};
fetch(url, options).then(r => r.arrayBuffer()).then(buffer => {
  let text = "";
  new Uint8Array(buffer).forEach(byte => { text += String.fromCharCode(byte); });
  done(btoa(text));
});
"""


def choose(browser, name: str, value: str) -> None:
    browser.find_element(By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']").click()


def next_step(browser) -> None:
    browser.find_element(By.CSS_SELECTOR, "form.procedure-step button[type=submit]").click()


def fine(browser) -> None:
    assert fits_a_phone(browser), browser.current_url
    assert severe_console_errors(browser) == []


def download(browser, url: str, form: str | None = None) -> bytes:
    browser.set_script_timeout(30)
    return base64.b64decode(browser.execute_async_script(FETCH, url, form))


@pytest.fixture
def march_2027():
    # The live server's thread reads the same travelled clock.
    with time_machine.travel(datetime(2027, 3, 15, 10, tzinfo=PARIS), tick=True):
        yield


def test_a_parent_pre_enrols_on_a_phone_a_clerk_accepts_and_the_lists_follow(
    browser, live_server, march_2027
):
    commune = CommuneFactory(name="Beauvais", insee_code="60057")
    school = SchoolFactory(
        name="École du Nord", commune=commune, address="1 rue du Nord", uai="0600001A"
    )
    school_year(2027)
    segment(school, street(commune, "Rue Nationale"), year=2027)
    places(school, "PS", 24, year=2027)
    parent, child = family(line1="12 rue Nationale", commune=commune)
    book = stored_document(parent, kind="family_record_book", content=pdf_bytes(pages=1))
    card = stored_document(parent, kind="identity_document", content=pdf_bytes(pages=2))

    browser.set_window_size(390, 900)
    log_in(browser, live_server, parent.user)
    browser.get(live_server.url + reverse("procedures:type", args=[KEY]))
    wait_for_text(browser, "Préinscription scolaire")
    fine(browser)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(browser, "Étape 1 sur 3")
    fine(browser)
    choose(browser, "child", child.public_id)
    choose(browser, "level", "PS")
    choose(browser, "child_identity", book.public_id)
    choose(browser, "guardian_identity", card.public_id)
    next_step(browser)
    wait_for_text(browser, "Étape 2 sur 3")
    fine(browser)
    # The school of the household's address, shown as the parent fills the form.
    assert (
        "l’école de votre adresse (12 rue Nationale, Beauvais) pour 2027-2028 est École du Nord"
        in (browser.find_element(By.TAG_NAME, "main").text)
    )
    reason = browser.find_element(By.ID, "field-derogation_reason")
    choose(browser, "choice", "derogation")
    assert reason.is_displayed()  # a derogation asks for its reason
    choose(browser, "choice", "catchment")
    assert not reason.is_displayed()
    next_step(browser)
    wait_for_text(browser, "Étape 3 sur 3")
    fine(browser)
    proof = browser.find_element(By.ID, "field-proof_of_address")
    choose(browser, "address_proof", "sworn")
    assert not proof.is_displayed()  # a sworn statement in place of the proof of address
    choose(browser, "sworn_statement", "yes")
    next_step(browser)
    wait_for_text(browser, "Vérifiez vos réponses")
    fine(browser)
    browser.find_element(By.XPATH, "//button[contains(., 'Envoyer ma demande')]").click()
    wait_for_text(browser, "Votre demande est envoyée")
    fine(browser)
    file = ProcedureFile.objects.get(applicant=parent, type_key=KEY)
    assert file.state == "submitted"

    clerk = staff_user("clerk")
    log_in(browser, live_server, clerk)
    browser.get(live_server.url + reverse("procedures:queue") + f"?type={KEY}")
    wait_for_text(browser, "24 (reste 24)")  # the places of the school's level, above the files
    fine(browser)
    assert "Inscrits pour 2027-2028" in browser.page_source  # each cell's label on a phone
    browser.find_element(By.LINK_TEXT, "Préinscription scolaire").click()
    wait_for_text(browser, "Pour décider")
    fine(browser)
    assert "places : 24, inscrits : 0" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(
        By.XPATH, "//button[normalize-space()='Accepter (certificat d’inscription)']"
    ).click()
    wait_for_text(browser, "Marquer comme terminée")
    fine(browser)
    enrolment = Enrolment.objects.get(child=child)
    assert (enrolment.school, enrolment.level, enrolment.procedure_file) == (
        school,
        "PS",
        file.public_id,
    )

    log_in(browser, live_server, parent.user)
    browser.get(live_server.url + reverse("procedures:file", args=[file.public_id]))
    wait_for_text(browser, "Acceptée")
    fine(browser)
    link = browser.find_element(By.PARTIAL_LINK_TEXT, "Télécharger le résultat")
    certificate = download(browser, link.get_attribute("href"))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(certificate)).pages)
    assert "L131-5" in text
    assert child.full_name in text
    assert "École du Nord" in text
    assert "0600001A" in text

    head = site_administrator()
    log_in(browser, live_server, head)
    browser.get(live_server.url + "/admin/schools/schoolfacility/")
    wait_for_text(browser, "École du Nord")
    # Django's admin has no favicon: its 404 is the only message the console may hold.
    errors = severe_console_errors(browser)
    assert [e for e in errors if "favicon.ico" not in e["message"]] == []
    browser.find_element(
        By.CSS_SELECTOR, f"input[name='_selected_action'][value='{school.pk}']"
    ).click()
    browser.find_element(
        By.CSS_SELECTOR, "select[name='action'] option[value='download_list']"
    ).click()
    listing = download(browser, browser.current_url, "#changelist-form").decode("utf-8-sig")
    assert child.last_name in listing
    assert "Petite section" in listing
    assert AuditEntry.objects.filter(action="schools.list_read", actor=head).count() == 1
