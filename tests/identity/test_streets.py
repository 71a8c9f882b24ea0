"""The territory's streets, imported from the Base Adresse Nationale, and addresses checked
against them."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from identity import queries
from identity.actions.streets import import_streets
from identity.errors import Forbidden
from identity.models import AuditEntry, Street, normalise_street_name, street_part
from tests.factories import CommuneFactory, staff_user

pytestmark = pytest.mark.django_db

# The BAN's real header (adresses-<département>.csv), two communes mixed as in a département file.
BAN_HEADER = (
    "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;"
    "code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;"
    "libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;"
    "cad_parcelles"
)


def ban_row(number, street, insee, commune, place=""):
    return (
        f"{insee}_0001_{number:05d};{insee}_0001;{number};;{street};79000;{insee};{commune};;;"
        f"436000.0;6589000.0;-0.46;46.32;entrée;;{place};{commune.upper()};"
        f"{street.upper()};commune;commune;1;"
    )


@pytest.fixture
def niort():
    return CommuneFactory(name="Niort", insee_code="79191", postcode="79000")


@pytest.fixture
def ban_file(tmp_path):
    path = tmp_path / "adresses-79.csv"
    path.write_text(
        "\n".join(
            [
                BAN_HEADER,
                ban_row(1, "Rue Victor Hugo", "79191", "Niort"),
                ban_row(3, "Rue Victor Hugo", "79191", "Niort"),
                ban_row(12, "Avenue de Limoges", "79191", "Niort"),
                ban_row(2, "Le Moulin", "79191", "Niort", place="Le Moulin"),
                ban_row(5, "Rue de la Gare", "79048", "Chauray"),
            ]
        ),
        encoding="utf-8",
    )
    return path


def test_normalised_names_match_however_they_are_typed():
    assert normalise_street_name("Av. Jean-Jaurès") == normalise_street_name("avenue jean jaures")
    assert normalise_street_name("Bd  de l'Europe") == "boulevard de l europe"
    assert street_part("12 bis, rue Victor Hugo") == "rue Victor Hugo"
    assert street_part("3-5 Place de la Brèche") == "Place de la Brèche"


def test_the_command_imports_one_communes_streets_once(niort, ban_file):
    out = StringIO()
    call_command("import_streets", "79191", str(ban_file), stdout=out)
    assert sorted(Street.objects.filter(commune=niort).values_list("name", flat=True)) == [
        "Avenue de Limoges",
        "Le Moulin",
        "Rue Victor Hugo",
    ]
    assert "3 street(s) added" in out.getvalue()
    call_command("import_streets", "79191", str(ban_file), stdout=out)
    assert Street.objects.count() == 3
    assert AuditEntry.objects.filter(action="territory.streets_imported").count() == 2


def test_a_file_that_is_not_the_bans_is_refused(niort, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("street,city\nRue X,Niort\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nom_voie"):
        call_command("import_streets", "79191", str(path))


def test_an_unknown_commune_is_refused(ban_file):
    with pytest.raises(CommandError, match="No commune"):
        call_command("import_streets", "99999", str(ban_file))


def test_addresses_are_found_on_their_street(niort, ban_file):
    call_command("import_streets", "79191", str(ban_file), stdout=StringIO())
    assert queries.street_for(niort, "12 av. de Limoges").name == "Avenue de Limoges"
    assert queries.street_for(niort, "4 rue victor-hugo").name == "Rue Victor Hugo"
    assert queries.street_for(niort, "8 rue de la Gare") is None  # in Chauray


def test_only_an_administrator_imports_streets(niort):
    with pytest.raises(Forbidden):
        import_streets(actor=staff_user("clerk"), commune=niort, names=["Rue X"])
    result = import_streets(actor=staff_user("admin"), commune=niort, names=["Rue X", "rue x"])
    assert result.added == 1
