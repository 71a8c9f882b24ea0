"""Backups sent to S3-compatible object storage with object lock (docs/backup.md), against a
local S3-compatible server the test starts (moto in server mode, on the loopback address):
the archive lands in the bucket, is restored from there by name, and the server's own pruning
cannot destroy a locked archive — it only hides it behind a delete marker."""

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from django.core.management import call_command
from django.utils import timezone
from moto.server import ThreadedMotoServer

from tests.documents_vault.factories import stored_document
from tests.factories import ResidentFactory
from tests.portal.test_backup import empty_database_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def locked_bucket(settings, monkeypatch, tmp_path):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-3")
    bucket = f"sesame-backups-{uuid.uuid4().hex[:12]}"
    client.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-3"},
        ObjectLockEnabledForBucket=True,
    )
    client.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}},
        },
    )
    s3 = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            "region_name": "eu-west-3",
            "default_acl": None,
            "file_overwrite": False,
        },
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": s3,
        "vault": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "vault", "base_url": None},
        },
    }
    yield client, endpoint, bucket
    server.stop()


def _backup(**options) -> str:
    out = []

    class Lines:
        def write(self, text):
            out.append(text)

        def flush(self):
            pass

    call_command("backup", stdout=Lines(), **options)
    return "".join(out).strip().splitlines()[-1]


def test_an_archive_goes_to_the_bucket_and_is_restored_from_it(locked_bucket, tmp_path):
    client, endpoint, bucket = locked_bucket
    stored_document(ResidentFactory())
    where = _backup()
    assert where.startswith(f"s3://{bucket}/sesame-")
    name = where.removeprefix(f"s3://{bucket}/")
    assert client.head_object(Bucket=bucket, Key=name)["ObjectLockMode"] == "COMPLIANCE"

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "DATABASE_URL": empty_database_url(tmp_path),
        "SESAME_VAR_DIR": str(tmp_path / "restored-var"),
        "SESAME_BACKUP_S3_BUCKET": bucket,
        "SESAME_BACKUP_S3_ENDPOINT_URL": endpoint,
        "SESAME_BACKUP_S3_REGION": "eu-west-3",
    }
    restored = subprocess.run(  # noqa: S603 - our own manage.py, arguments written here
        [sys.executable, "manage.py", "restore", name, "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert restored.returncode == 0, restored.stderr
    assert "1 document object(s)" in restored.stdout


def test_pruning_a_locked_bucket_only_hides_archives(locked_bucket, time_machine):
    client, _endpoint, bucket = locked_bucket
    names = []
    for minutes in range(3):
        time_machine.move_to(timezone.now() + timedelta(minutes=minutes + 1))
        names.append(_backup(keep=1).removeprefix(f"s3://{bucket}/"))
    listed = [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert listed == [names[-1]]  # what the server sees: the newest only
    versions = client.list_object_versions(Bucket=bucket)
    kept = sorted(version["Key"] for version in versions.get("Versions", []))
    assert kept == sorted(names)  # every archive is still there, locked
    first = next(v for v in versions["Versions"] if v["Key"] == names[0])
    with pytest.raises(client.exceptions.ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=names[0], VersionId=first["VersionId"])
