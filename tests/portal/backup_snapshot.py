"""What an instance holds, read without writing anything, to compare an instance with its
restored copy: every row of every table, each wallet's balance, each readable document
decrypted, the audit trail. Imported by the backup tests, and run as a script in the restored
instance's own process (`python -m tests.portal.backup_snapshot`, which prints it as JSON)."""

import hashlib
import json


def _plain(value):
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return "bytes:" + value.hex()
    return repr(value)


def snapshot() -> dict:
    from django.apps import apps

    from documents_vault import crypto
    from documents_vault import storage as vault
    from documents_vault.models import DocumentVersion
    from identity.models import AuditEntry, Person
    from payments.queries import wallet_balance

    tables = {}
    for model in apps.get_models(include_auto_created=True):
        rows = [
            [_plain(value) for value in row]
            for row in model._base_manager.order_by("pk").values_list()
        ]
        digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()
        tables[model._meta.db_table] = {"rows": len(rows), "sha256": digest}
    documents = {}
    for version in DocumentVersion.objects.filter(wrapped_key__isnull=False).order_by("pk"):
        data_key = crypto.unwrap_data_key(
            version.wrapped_key, binding=version.public_id, key_id=version.key_id
        )
        content = crypto.decrypt_file(
            vault.read_object(version.object_name), data_key=data_key, binding=version.public_id
        )
        documents[version.public_id] = hashlib.sha256(content).hexdigest()
    return {
        "tables": tables,
        "balances": {p.public_id: wallet_balance(p.pk) for p in Person.objects.order_by("pk")},
        "documents": documents,
        "audit": list(AuditEntry.objects.order_by("pk").values_list("action", "target")),
    }


if __name__ == "__main__":
    import django

    django.setup()
    print(json.dumps(snapshot()))
