import pytest


@pytest.fixture(autouse=True)
def vault_dir(settings, tmp_path):
    """Each test's safe in a folder of its own (the storage is looked up on each use)."""
    location = tmp_path / "vault"
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location, "base_url": None},
        },
    }
    return location


def stored_objects(location) -> list:
    """Every file under the safe's folder."""
    return (
        sorted(path for path in location.rglob("*") if path.is_file()) if location.exists() else []
    )


@pytest.fixture
def sign_in(browser, client, live_server):
    """Hand the browser a session of `user` made by Django's test client (the login form and
    its TOTP step are covered by the account tests)."""
    from django.conf import settings

    def sign_in_as(user):
        client.force_login(user)
        browser.delete_all_cookies()
        browser.get(live_server.url + "/accounts/login/")  # be on the site to set a cookie
        browser.add_cookie(
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "path": "/",
            }
        )

    return sign_in_as
