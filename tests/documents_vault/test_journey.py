"""Mes documents in a real browser (Debian's chromium, driven by selenium): a resident adds a
proof of address from the page, finds it in the list and downloads it; a clerk verifies it
from the queue; the resident sees it verified. No script error, no CSP violation."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from identity.models import StaffRole
from tests.browser import wait_for_text
from tests.documents_vault.factories import pdf_bytes
from tests.factories import ResidentFactory, staff_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for_file(folder, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError("nothing was downloaded")


def test_upload_list_download_then_a_clerk_verifies(browser, live_server, sign_in, tmp_path):
    camille = ResidentFactory(first_name="Camille", last_name="Martin")
    clerk = staff_user(StaffRole.Role.CLERK)
    content = pdf_bytes(pages=2)
    scan = tmp_path / "facture-edf.pdf"
    scan.write_bytes(content)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )

    sign_in(camille.user)
    browser.get(live_server.url + reverse("documents_vault:list"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Mes documents"
    browser.find_element(By.NAME, "file").send_keys(str(scan))
    Select(browser.find_element(By.NAME, "kind")).select_by_visible_text("Justificatif de domicile")
    Select(browser.find_element(By.NAME, "person")).select_by_visible_text("Camille Martin")
    browser.find_element(By.CSS_SELECTOR, "form[enctype] [type=submit]").click()
    wait_for_text(browser, "Justificatif de domicile ajouté")
    row = browser.find_element(By.CSS_SELECTOR, ".document-row")
    assert "Camille Martin" in row.text
    assert "En attente de vérification" in row.text

    row.find_element(By.LINK_TEXT, "Télécharger").click()
    downloaded = wait_for_file(downloads)
    assert downloaded.name == "facture-edf.pdf"
    assert downloaded.read_bytes() == content

    sign_in(clerk)
    browser.get(live_server.url + reverse("documents_vault:queue"))
    browser.find_element(By.PARTIAL_LINK_TEXT, "Justificatif de domicile").click()
    proof_date = (timezone.localdate() - timedelta(days=10)).isoformat()
    field = browser.find_element(By.NAME, "proof_date")
    browser.execute_script("arguments[0].value = arguments[1]", field, proof_date)
    browser.find_element(By.XPATH, "//button[text()='Marquer comme vérifié']").click()
    wait_for_text(browser, "Le document est vérifié.")
    assert "Aucun document n’attend de vérification." in browser.page_source

    sign_in(camille.user)
    browser.get(live_server.url + reverse("documents_vault:list"))
    assert "Vérifié" in browser.find_element(By.CSS_SELECTOR, ".document-row").text
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
