"""The demo's documents: Camille's household has a proof of address a clerk verified, a CAF
certificate waiting in the clerks' queue, Léa's vaccination record and Camille's identity card
expiring within the month. The territory's demo trust rule for the family quotient is "waits
for a clerk": Camille's declared quotient applies once Paul (accueil) verifies the certificate.
Idempotent; the files are small PDFs drawn here, saying they are demo documents."""

import io
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from identity.demo import RESIDENT_EMAIL
from identity.models import Person, Territory, TrustPolicy, User

from .actions import uploads, verification
from .models import Document, DocumentKind

CLERK_EMAIL = "accueil@demo.sesame.fr"


def _demo_pdf(title: str, lines: list[str]) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setTitle(title)
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(60, 770, title)
    pdf.setFont("Helvetica", 12)
    for number, line in enumerate([*lines, "", "Document de démonstration — sans valeur."]):
        pdf.drawString(60, 730 - 20 * number, line)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


@transaction.atomic
def load() -> None:
    territory = Territory.objects.order_by("pk").first()
    if territory is not None:
        TrustPolicy.objects.get_or_create(
            territory=territory,
            criterion=TrustPolicy.Criterion.FAMILY_QUOTIENT,
            defaults={"mode": TrustPolicy.Mode.AWAIT_VERIFICATION},
        )
    parent = Person.objects.filter(user__email=RESIDENT_EMAIL).select_related("user").first()
    clerk = User.objects.filter(email=CLERK_EMAIL).first()
    if parent is None or clerk is None:
        return
    household = parent.household
    if Document.objects.filter(household=household).exists():
        return
    today = timezone.localdate()
    address = household.addresses.filter(valid_until__isnull=True).first()
    proof_date = today - timedelta(days=20)
    proof = uploads.add_document(
        actor=parent.user,
        person=parent,
        kind=DocumentKind.PROOF_OF_ADDRESS,
        file_name="facture-electricite.pdf",
        content=_demo_pdf(
            "Facture d'électricité",
            [
                f"{parent.full_name}",
                f"{address.line1}, {address.postcode} {address.commune.name}" if address else "",
                f"Date : {proof_date:%d/%m/%Y}",
            ],
        ),
    )
    verification.verify(
        actor=clerk,
        version_public_id=proof.versions.get().public_id,
        findings=verification.Findings(proof_date=proof_date),
    )
    uploads.add_document(
        actor=parent.user,
        person=parent,
        kind=DocumentKind.CAF_CERTIFICATE,
        file_name="attestation-caf.pdf",
        content=_demo_pdf(
            "Attestation de quotient familial (CAF)",
            [parent.full_name, f"Quotient familial : 850 € — année {today.year}"],
        ),
        expires_on=today.replace(month=12, day=31),
    )
    lea = household.members.filter(first_name="Léa").first()
    if lea is not None:
        uploads.add_document(
            actor=parent.user,
            person=lea,
            kind=DocumentKind.VACCINATION_RECORD,
            file_name="carnet-vaccination-lea.pdf",
            content=_demo_pdf("Carnet de vaccination", [lea.full_name]),
        )
    uploads.add_document(
        actor=parent.user,
        person=parent,
        kind=DocumentKind.IDENTITY_DOCUMENT,
        file_name="carte-identite.pdf",
        content=_demo_pdf("Carte nationale d'identité", [parent.full_name]),
        expires_on=today + timedelta(days=25),
    )
