"""The schools become the town's Facilities of kind school, and the accepted children the one
identity.schooling Enrolment: each schools.School becomes (or joins, by commune and name) a
school Facility with its address and UAI, the map and the places follow it, and an enrolment is
copied when the town's school year it belongs to exists (none existed in production)."""

import django.db.models.deletion
from django.db import migrations, models


def schools_to_facilities(apps, schema_editor):
    School = apps.get_model("schools", "School")
    Facility = apps.get_model("identity", "Facility")
    CatchmentSegment = apps.get_model("schools", "CatchmentSegment")
    SchoolPlaces = apps.get_model("schools", "SchoolPlaces")
    OldEnrolment = apps.get_model("schools", "Enrolment")
    Enrolment = apps.get_model("identity", "Enrolment")
    SchoolYear = apps.get_model("identity", "SchoolYear")
    facilities = {}
    for school in School.objects.all():
        facility, _created = Facility.objects.get_or_create(
            commune_id=school.commune_id, name=school.name, kind="school"
        )
        facility.address = facility.address or school.address
        facility.uai = facility.uai or school.uai
        facility.save(update_fields=["address", "uai"])
        facilities[school.pk] = facility
        CatchmentSegment.objects.filter(school=school).update(facility=facility)
        SchoolPlaces.objects.filter(school=school).update(facility=facility)
    for old in OldEnrolment.objects.all():
        year = SchoolYear.objects.filter(starts_on__year=old.school_year).first()
        if (
            year is None
            or Enrolment.objects.filter(child_id=old.child_id, school_year=year).exists()
        ):
            continue
        Enrolment.objects.create(
            public_id=old.public_id,
            child_id=old.child_id,
            school=facilities[old.school_id],
            school_year=year,
            level=old.level.upper(),
            recorded_at=old.accepted_at,
            recorded_by_id=old.accepted_by_id,
            procedure_file=old.procedure,
            derogation=old.derogation,
        )
    fire_pending_checks(schema_editor)


def fire_pending_checks(schema_editor):
    # PostgreSQL refuses to alter a table with deferred foreign-key checks still pending from
    # the rows just written in this transaction: run them now.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def school_field(related_name):
    return models.ForeignKey(
        limit_choices_to={"kind": "school"},
        on_delete=django.db.models.deletion.PROTECT,
        related_name=related_name,
        to="identity.facility",
        verbose_name="school",
    )


LEVELS = [
    ("PS", "Nursery, first year (PS)"),
    ("MS", "Nursery, second year (MS)"),
    ("GS", "Nursery, last year (GS)"),
    ("CP", "Year 1 (CP)"),
    ("CE1", "Year 2 (CE1)"),
    ("CE2", "Year 3 (CE2)"),
    ("CM1", "Year 4 (CM1)"),
    ("CM2", "Year 5 (CM2)"),
]


def levels_upper(apps, schema_editor):
    SchoolPlaces = apps.get_model("schools", "SchoolPlaces")
    for places in SchoolPlaces.objects.all():
        places.level = places.level.upper()
        places.save(update_fields=["level"])
    fire_pending_checks(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0009_school_details"),
        ("schools", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="catchmentsegment",
            name="facility",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="identity.facility",
            ),
        ),
        migrations.AddField(
            model_name="schoolplaces",
            name="facility",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="identity.facility",
            ),
        ),
        migrations.RunPython(schools_to_facilities, migrations.RunPython.noop),
        migrations.RunPython(levels_upper, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="schoolplaces", name="one_places_row_per_level"),
        migrations.RemoveField(model_name="catchmentsegment", name="school"),
        migrations.RemoveField(model_name="schoolplaces", name="school"),
        migrations.RenameField(
            model_name="catchmentsegment", old_name="facility", new_name="school"
        ),
        migrations.RenameField(model_name="schoolplaces", old_name="facility", new_name="school"),
        migrations.AlterField(
            model_name="catchmentsegment", name="school", field=school_field("catchment_segments")
        ),
        migrations.AlterField(
            model_name="schoolplaces", name="school", field=school_field("school_places")
        ),
        migrations.AlterField(
            model_name="schoolplaces",
            name="level",
            field=models.CharField(choices=LEVELS, max_length=4, verbose_name="level"),
        ),
        migrations.AddConstraint(
            model_name="schoolplaces",
            constraint=models.UniqueConstraint(
                fields=("school", "school_year", "level"), name="one_places_row_per_level"
            ),
        ),
        migrations.DeleteModel(name="Enrolment"),
        migrations.DeleteModel(name="School"),
        migrations.CreateModel(
            name="SchoolFacility",
            fields=[],
            options={
                "verbose_name": "school",
                "verbose_name_plural": "schools",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("identity.facility",),
        ),
    ]
