"""The four pages of the footer, empty: each shows its default text until an administrator
writes its own (the admin edits them, it adds or deletes none)."""

from django.db import migrations

KINDS = ["legal_notice", "privacy", "accessibility", "contact"]


def create_pages(apps, schema_editor):
    LegalPage = apps.get_model("portal", "LegalPage")
    for kind in KINDS:
        LegalPage.objects.get_or_create(kind=kind)


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [migrations.RunPython(create_pages, migrations.RunPython.noop)]
