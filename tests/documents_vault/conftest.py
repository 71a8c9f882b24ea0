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
