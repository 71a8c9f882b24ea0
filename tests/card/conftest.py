"""What every card test shares: photos and the holder's documents kept in folders of the
test's own, and Camille, the resident most tests follow."""

import pytest

# The card request's photo goes into the holder's documents: each test's safe in a folder of
# its own, as in the safe's tests.
from tests.documents_vault.conftest import vault_dir  # noqa: F401
from tests.factories import ResidentFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def camille():
    return ResidentFactory(first_name="Camille", last_name="Martin")
