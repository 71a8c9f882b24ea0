"""The schools' demo: two schools of Cahors with their catchment map for the coming school
year, places per level, and pre-enrolment files in every state (Camille's son Tom, and six
families of the town, one open file each)."""

from datetime import date

from django.utils import timezone

from documents_vault.actions import uploads
from documents_vault.demo import _demo_pdf
from identity.actions.household import AddressInput, add_household_member, register_resident
from identity.demo import DEMO_PASSWORD
from identity.models import Commune, Facility, Person, Street, User
from identity.schooling.models import SchoolYear
from services.procedures.demo import demo_people, has_files, play

from .actions import import_catchment_map
from .levels import next_school_year, school_year_label
from .models import SchoolPlaces
from .procedures import KEY

STREETS = ("Rue du Château du Roi", "Rue Nationale", "Quai Champollion", "Boulevard Gambetta")
MAP = """school;commune;street;from;to;side
École Lucie-Aubrac;46042;Rue du Château du Roi;;;
École Lucie-Aubrac;46042;Rue Nationale;1;199;odd
École Jean-Jaurès;46042;Rue Nationale;2;200;even
École Jean-Jaurès;46042;Quai Champollion;;;
École Jean-Jaurès;46042;Boulevard Gambetta;;;
"""
# (email, parent, child, child's birth date, level, address, the file's answers and path)
FAMILIES = (
    ("sophie.bernard", "Sophie", "Bernard", "Noé", date(2024, 5, 2), "PS", "7 rue Nationale"),
    ("karim.haddad", "Karim", "Haddad", "Inès", date(2021, 9, 14), "CP", "8 rue Nationale"),
    ("julie.petit", "Julie", "Petit", "Jules", date(2024, 1, 20), "PS", "3 quai Champollion"),
    ("marc.roux", "Marc", "Roux", "Emma", date(2023, 3, 3), "MS", "15 rue Nationale"),
    ("laura.moreau", "Laura", "Moreau", "Hugo", date(2022, 7, 7), "GS", "4 boulevard Gambetta"),
    ("nadia.leroy", "Nadia", "Leroy", "Lina", date(2021, 2, 2), "CP", "21 rue Nationale"),
)
DEROGATION_TO_JAURES = {"choice": "derogation", "derogation_reason": "siblings"}
PATHS = (
    ({}, None),  # a draft
    ({}, ()),
    ({}, (("take", ""),)),
    ({}, (("take", ""), ("ask", "Merci d’ajouter la page du livret de famille d’Emma."))),
    ({}, (("take", ""), ("mark_complete", ""))),
    (DEROGATION_TO_JAURES, (("take", ""), ("accept", "Dérogation accordée : fratrie."))),
)


def _documents(parent: Person, child_name: str) -> dict:
    # The child's identity card (a family record book would wait in the clerks' queue).
    child_identity = uploads.add_document(
        actor=parent.user,
        person=parent,
        kind="identity_document",
        file_name="carte-identite-enfant.pdf",
        content=_demo_pdf("Carte nationale d’identité", [child_name]),
        expires_on=date(2031, 1, 1),
    )
    identity = uploads.add_document(
        actor=parent.user,
        person=parent,
        kind="identity_document",
        file_name="carte-identite.pdf",
        content=_demo_pdf("Carte nationale d’identité", [parent.full_name]),
        expires_on=date(2031, 1, 1),
    )
    return {"child_identity": child_identity.public_id, "guardian_identity": identity.public_id}


def _answers(parent: Person, child: Person, level: str, **more) -> dict:
    return {
        "child": child.public_id,
        "level": level,
        **_documents(parent, child.full_name),
        "choice": "catchment",
        "address_proof": "sworn",
        "sworn_statement": True,
        **more,
    }


def _family(email, first, last, child_name, born, address, cahors) -> tuple[Person, Person]:
    user = User.objects.create_user(
        email=f"{email}@demo.sesame.fr", password=DEMO_PASSWORD, first_name=first
    )
    parent = register_resident(
        user=user,
        first_name=first,
        last_name=last,
        birth_date=date(1988, 1, 1),
        address=AddressInput(line1=address, line2="", postcode="46000", commune=cahors),
        moved_in=date(2020, 9, 1),
    )
    add_household_member(
        actor=user,
        household=parent.household,
        role=Person.Role.CHILD,
        first_name=child_name,
        last_name=last,
        birth_date=born,
    )
    child = parent.household.members.get(first_name=child_name)
    return parent, child


def load() -> None:
    people = demo_people()
    if people is None or has_files(KEY, people[0]):
        return
    resident, clerk = people
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    cahors = Commune.objects.get(insee_code="46042")
    for name in STREETS:
        Street.objects.get_or_create(commune=cahors, name=name)
    start = next_school_year(timezone.localdate())
    # The town's school year the files are for (the canteen reads the same one).
    SchoolYear.objects.get_or_create(
        name=school_year_label(start),
        defaults={
            "starts_on": date(start, 9, 1),
            "ends_on": date(start + 1, 7, 3),
            "zone": "C",
        },
    )
    schools = {
        name: Facility.objects.update_or_create(
            commune=cahors,
            name=name,
            kind=Facility.Kind.SCHOOL,
            defaults={"address": address, "uai": uai},
        )[0]
        for name, address, uai in (
            ("École Lucie-Aubrac", "20 rue du Château du Roi, 46000 Cahors", "0460531K"),
            ("École Jean-Jaurès", "2 boulevard Gambetta, 46000 Cahors", "0460532L"),
        )
    }
    import_catchment_map(actor=admin, school_year=start, text=MAP)
    for school in schools.values():
        for level, places in (("PS", 2), ("MS", 25), ("GS", 25), ("CP", 24), ("CE2", 24)):
            SchoolPlaces.objects.create(
                school=school, school_year=start, level=level, places=places
            )
    jaures = schools["École Jean-Jaurès"].public_id

    # Camille's son Tom: a withdrawn request, a refused derogation, then accepted and done.
    tom = resident.household.members.get(first_name="Tom")
    answers = _answers(resident, tom, "CE2")
    play(type_key=KEY, resident=resident, clerk=clerk, answers=answers, path=(("withdraw", ""),))
    play(
        type_key=KEY,
        resident=resident,
        clerk=clerk,
        answers={**answers, **DEROGATION_TO_JAURES, "wanted_school": jaures},
        path=(("refuse_derogation", "Pas de place à l’école Jean-Jaurès en CE2."),),
    )
    play(
        type_key=KEY,
        resident=resident,
        clerk=clerk,
        answers=answers,
        path=(("take", ""), ("accept", ""), ("complete", "Certificat remis à l’école.")),
    )
    for (email, first, last, child_name, born, level, address), (more, path) in zip(
        FAMILIES, PATHS, strict=True
    ):
        parent, child = _family(email, first, last, child_name, born, address, cahors)
        if more:
            more = {**more, "wanted_school": jaures}
        play(
            type_key=KEY,
            resident=parent,
            clerk=clerk,
            answers=_answers(parent, child, level, **more),
            path=path or (),
            submit=path is not None,
        )
