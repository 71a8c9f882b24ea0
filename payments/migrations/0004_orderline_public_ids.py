"""Each existing order line gets its own public id."""

from django.db import migrations


def give_public_ids(apps, schema_editor):
    from identity.models import new_public_id

    OrderLine = apps.get_model("payments", "OrderLine")
    for line in OrderLine.objects.filter(public_id__isnull=True).only("pk").iterator():
        OrderLine.objects.filter(pk=line.pk).update(public_id=new_public_id())


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_basket"),
    ]

    operations = [
        migrations.RunPython(give_public_ids, migrations.RunPython.noop),
    ]
