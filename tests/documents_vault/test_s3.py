"""The safe on S3-compatible object storage, through django-storages, against a local
S3-compatible server the test starts (moto in server mode, on the loopback address: nothing
reaches the network)."""

import json
import subprocess
import sys
from datetime import timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer

from documents_vault import storage
from documents_vault.actions import access, maintenance, uploads
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db

BUCKET = "sesame-vault-test"


@pytest.fixture(scope="module")
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_vault(s3_server, settings, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="eu-west-3")
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": "eu-west-3",
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_documents_are_stored_encrypted_in_the_bucket(s3_vault, django_capture_on_commit_callbacks):
    camille = ResidentFactory()
    content = pdf_bytes(pages=2)
    document = stored_document(camille, content=content)
    version = document.versions.get()
    assert keys(s3_vault) == [version.object_name]
    stored = s3_vault.get_object(Bucket=BUCKET, Key=version.object_name)["Body"].read()
    assert content not in stored
    assert b"%PDF" not in stored
    assert access.download_own(actor=camille.user, public_id=document.public_id).content == content
    with django_capture_on_commit_callbacks(execute=True):
        uploads.delete_document(actor=camille.user, document=document)
    assert keys(s3_vault) == []


def test_the_sweep_lists_the_bucket_and_removes_orphans(s3_vault):
    camille = ResidentFactory()
    stored_document(camille)
    orphan = storage.write_object(b"sealed bytes whose row never committed")
    assert set(storage.list_objects()) == set(keys(s3_vault))
    assert maintenance.sweep_orphans(grace=timedelta(0)) == 1
    assert orphan not in keys(s3_vault)
    assert len(keys(s3_vault)) == 1


def test_setting_a_bucket_switches_the_safe_to_object_storage():
    script = (
        "import os, json; os.environ['DEBUG'] = '1';"
        "os.environ['SESAME_VAULT_S3_BUCKET'] = 'town-vault';"
        "os.environ['SESAME_VAULT_S3_ENDPOINT_URL'] = 'https://s3.example.fr';"
        "import portal.settings as s; print(json.dumps(s.STORAGES['vault']))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    vault = json.loads(result.stdout.strip().splitlines()[-1])
    assert vault["BACKEND"] == "storages.backends.s3.S3Storage"
    assert vault["OPTIONS"]["bucket_name"] == "town-vault"
    assert vault["OPTIONS"]["endpoint_url"] == "https://s3.example.fr"
    assert vault["OPTIONS"]["default_acl"] is None
