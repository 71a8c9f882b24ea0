import identity.models
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_orderline_public_ids"),
    ]

    operations = [
        migrations.AlterField(
            model_name="orderline",
            name="public_id",
            field=identity.models.PublicIdField(
                default=identity.models.new_public_id, editable=False, max_length=24, unique=True
            ),
        ),
    ]
