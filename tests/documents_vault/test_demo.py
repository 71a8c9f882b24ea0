"""The demo: Camille's household has a verified proof of address and a CAF certificate in the
clerks' queue, and the family quotient waits for a clerk."""

import io

import pytest
from django.core.management import call_command

from documents_vault import queries
from documents_vault.models import Document
from identity.models import TrustPolicy, User

pytestmark = pytest.mark.django_db


def test_the_demo_has_documents_to_verify(settings):
    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())  # idempotent
    camille = User.objects.get(email="camille.martin@demo.sesame.fr")
    documents = {d.kind: d for d in Document.objects.filter(household=camille.person.household)}
    assert set(documents) >= {"proof_of_address", "caf_certificate"}
    proof = queries.current_version(documents["proof_of_address"])
    assert proof.verification == "verified"
    assert camille.person.household.addresses.get(valid_until=None).verified_from is not None
    [waiting] = queries.verification_queue()
    assert waiting.document == documents["caf_certificate"]
    rule = TrustPolicy.objects.get(criterion="family_quotient")
    assert rule.mode == TrustPolicy.Mode.AWAIT_VERIFICATION
