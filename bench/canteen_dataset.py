"""The canteen benchmark's data in its own PostgreSQL database (idempotent; needs Django set up).

A town of `schools` schools, each with a canteen site and its lunch (Monday, Tuesday, Thursday,
Friday, until 15:00 the day before); `households` households of one parent with a login and a
signed-in browser session (a session row and a CSRF secret, as after signing in), and one or two
children (every other household has two) enrolled at one of the schools for a school year
holding the months booked. The school year is re-dated at each run around today, so the
benchmark books the same way whatever the day it runs.

A second run only tops up what is missing, deletes the previous runs' bookings, counters,
booking answers and audit entries of the bench's children, and renews the sessions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, time, timedelta

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.utils import timezone

from identity.models import (
    AuditEntry,
    Commune,
    Facility,
    Guardianship,
    Household,
    Person,
    Territory,
    User,
)
from identity.schooling.models import Enrolment, Level, SchoolYear
from services.canteen.models import Booking, BookingRequest, CanteenSite, Service, ServiceDay

BATCH = 2000
UNUSABLE = "!"  # an unusable password (what set_unusable_password leaves, without its cost)
LAST_NAME = "Banc-Cantine"
EMAIL_DOMAIN = "banc-cantine.invalid"  # reserved (RFC 2606): never a mailbox
YEAR_NAME = "banc-cantine"
PROBE_HOUSEHOLDS = 8  # the in-process SQL count's households, never used by the generator


@dataclass(frozen=True)
class Job:
    """One month booking to send: the parent's session and one child at one service."""

    session: str
    csrf: str
    child: str
    service: str


@dataclass(frozen=True)
class CanteenData:
    jobs: list[Job]  # one per child of the load households
    probe_jobs: list[Job]  # one per child of the probe households
    user_ids: list[int]


def _email(index: int) -> str:
    return f"parent{index:05d}@{EMAIL_DOMAIN}"


def _town(schools: int) -> list[Service]:
    territory, _ = Territory.objects.get_or_create(name="Territoire du banc d'essai")
    commune, _ = Commune.objects.get_or_create(
        insee_code="99999",
        defaults={"territory": territory, "name": "Banc-sur-Essai", "postcode": "99999"},
    )
    services = []
    for index in range(schools):
        name = f"École du banc d'essai n° {index + 1}"
        school, _ = Facility.objects.get_or_create(
            commune=commune, name=name, defaults={"kind": Facility.Kind.SCHOOL}
        )
        site, _ = CanteenSite.objects.get_or_create(school=school, name=f"Restaurant {name}")
        service, _ = Service.objects.get_or_create(
            site=site,
            kind=Service.Kind.LUNCH,
            defaults={
                "capacity": 1000,
                "weekdays": "0,1,3,4",
                "rule": Service.Rule.DAYS_BEFORE,
                "rule_days": 1,
                "rule_time": time(15, 0),
            },
        )
        services.append(service)
    return services


def _school_year(today: date) -> SchoolYear:
    """A school year holding the four months after today, with no holidays in it."""
    year, _ = SchoolYear.objects.get_or_create(
        name=YEAR_NAME,
        defaults={
            "starts_on": today - timedelta(days=60),
            "ends_on": today + timedelta(220),
            "zone": "C",
        },
    )
    SchoolYear.objects.filter(pk=year.pk).update(
        starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=220)
    )
    year.holidays.all().delete()
    return year


def _create_households(indexes: list[int], services: list[Service], year: SchoolYear) -> None:
    for start in range(0, len(indexes), BATCH):
        chunk = indexes[start : start + BATCH]
        users = User.objects.bulk_create(
            [User(email=_email(i), password=UNUSABLE, first_name=f"Parent{i:05d}") for i in chunk]
        )
        households = Household.objects.bulk_create([Household() for _ in chunk])
        parents = Person.objects.bulk_create(
            [
                Person(
                    household=household,
                    user=user,
                    role=Person.Role.ADULT,
                    first_name=f"Parent{i:05d}",
                    last_name=LAST_NAME,
                    birth_date=date(1985, 1, 1),
                )
                for household, user, i in zip(households, users, chunk, strict=True)
            ]
        )
        children, schools = [], []
        for household, i in zip(households, chunk, strict=True):
            for rank in range(2 if i % 2 == 0 else 1):
                children.append(
                    Person(
                        household=household,
                        role=Person.Role.CHILD,
                        first_name=f"Enfant{i:05d}-{rank + 1}",
                        last_name=LAST_NAME,
                        birth_date=date(2018, 1, 1),
                    )
                )
                schools.append(services[i % len(services)].site.school_id)
        children = Person.objects.bulk_create(children)
        by_household = {parent.household_id: parent for parent in parents}
        Guardianship.objects.bulk_create(
            [Guardianship(guardian=by_household[c.household_id], child=c) for c in children]
        )
        Enrolment.objects.bulk_create(
            [
                Enrolment(child=child, school_id=school, school_year=year, level=Level.CE1)
                for child, school in zip(children, schools, strict=True)
            ]
        )


def _sessions(users: list[User]) -> dict[int, tuple[str, str]]:
    """A fresh signed-in session (and CSRF secret) per parent, as a sign-in leaves them."""
    Session.objects.filter(session_key__startswith="bench").delete()
    expire = timezone.now() + timedelta(hours=8)
    store = SessionStore()
    rows, found = [], {}
    for user in users:
        key = "bench" + secrets.token_hex(14)
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        found[user.pk] = (key, secrets.token_hex(16))
    Session.objects.bulk_create(rows, batch_size=BATCH)
    return found


def prepare(*, households: int, schools: int) -> CanteenData:
    """Create or top up the bench town and reset it for a new run."""
    today = timezone.localdate()
    total = households + PROBE_HOUSEHOLDS
    with transaction.atomic():
        services = _town(schools)
        year = _school_year(today)
        existing = set(
            User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").values_list("email", flat=True)
        )
        _create_households([i for i in range(total) if _email(i) not in existing], services, year)
        children = Person.objects.filter(last_name=LAST_NAME, role=Person.Role.CHILD)
        Booking.objects.filter(child__in=children).delete()
        ServiceDay.objects.filter(service__in=services).delete()
        users = list(User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").order_by("email"))
        BookingRequest.objects.filter(user__in=users).delete()
        AuditEntry.objects.filter(actor__in=users).delete()
        sessions = _sessions(users)
    with connection.cursor() as cursor:  # outside the transaction: VACUUM cannot run in one
        for model in (Booking, ServiceDay, BookingRequest, AuditEntry, Session, Person):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    service_of_school = {s.site.school_id: s.public_id for s in services}
    rows = (
        Enrolment.objects.filter(school_year__name=YEAR_NAME, child__last_name=LAST_NAME)
        .order_by("child__first_name")
        .values_list(
            "child__first_name",
            "child__public_id",
            "school_id",
            "child__household__members__user_id",
        )
    )
    jobs, probes = [], []
    for first_name, child, school, user_id in rows:
        index = int(first_name[len("Enfant") :].split("-")[0])
        if user_id is None or index >= total:
            continue  # the children's own rows among the household's members; older runs'
        session, csrf = sessions[user_id]
        job = Job(session, csrf, child, service_of_school[school])
        (jobs if index < households else probes).append(job)
    return CanteenData(jobs=jobs, probe_jobs=probes, user_ids=[u.pk for u in users])
