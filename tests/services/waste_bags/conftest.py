import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def _in_english(client):
    """These tests read messages in their English source; pages default to French."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield
