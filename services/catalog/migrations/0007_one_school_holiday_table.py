"""The catalogue's SchoolHolidayPeriod duplicated identity's school calendar: its periods move
to identity.SchoolHoliday (under the school year holding their first day; a period no school
year holds, a summer, is covered by the gap between two school years), then the table goes."""

from django.db import migrations


def move_periods(apps, schema_editor):
    period_model = apps.get_model("catalog", "SchoolHolidayPeriod")
    year_model = apps.get_model("identity", "SchoolYear")
    holiday_model = apps.get_model("identity", "SchoolHoliday")
    for period in period_model.objects.all():
        year = year_model.objects.filter(
            starts_on__lte=period.starts_on, ends_on__gte=period.starts_on
        ).first()
        if year is None:
            continue
        holiday_model.objects.get_or_create(
            school_year=year,
            starts_on=period.starts_on,
            defaults={"name": period.name, "classes_resume_on": period.classes_resume_on},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_grid_ended_by_successor"),
        ("identity", "0007_schooling"),
    ]

    operations = [
        migrations.RunPython(move_periods, migrations.RunPython.noop),
        migrations.DeleteModel(name="SchoolHolidayPeriod"),
    ]
