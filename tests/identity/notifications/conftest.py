import pytest

from identity.notifications import providers

from .fake_brevo import API_KEY, start_fake_brevo


@pytest.fixture
def brevo(settings, monkeypatch):
    """SMS go to a fake Brevo started for the test; the client gives up after half a second."""
    fake, server = start_fake_brevo()
    settings.SESAME_SMS_PROVIDER = "brevo"
    settings.BREVO_API_URL = fake.url
    settings.BREVO_API_KEY = API_KEY
    settings.BREVO_SMS_SENDER = "GrandCahors"
    monkeypatch.setattr(providers.BrevoSmsProvider, "timeout", 0.5)
    yield fake
    server.shutdown()
    server.server_close()
