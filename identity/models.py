"""People, households, guardianship, the territory, staff roles and the audit trail."""

import re
import secrets
import unicodedata
from datetime import date

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def new_public_id() -> str:
    """A non-sequential identifier for anything a resident can address in a URL. It starts with
    a letter or a digit: a reference beginning with "-" is read as a formula by spreadsheets
    (the accountant's CSV would have to quote it) and as an option by command lines."""
    while True:
        public_id = secrets.token_urlsafe(12)
        if public_id[0].isalnum():
            return public_id


def short_date(value) -> str:
    """A day, or a moment in local time, as a row's name shows it ("01/09/2026",
    "05/12/2026 17:02"): the admin's titles and lists read the page's language, never ISO."""
    if hasattr(value, "tzinfo"):
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        return formats.date_format(moment, "SHORT_DATETIME_FORMAT")
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on a day (a birthday counts from its morning)."""
    years = day.year - birth_date.year
    return years - 1 if (day.month, day.day) < (birth_date.month, birth_date.day) else years


class PublicIdField(models.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("default", new_public_id)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A login. Residents and staff both sign in with their email address.

    The civil identity of a resident lives on `Person`; a user has at most one person."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    # A staff application (the library's ILS, a partner), not a person: it never signs in (no
    # password), acts only through its bearer token, and its staff roles are the token's scope.
    is_application = models.BooleanField(default=False, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """How every page, mail, message, the audit trail and the admin name a login: its
        person's name, else the names given at sign-up or on a staff account (an application's
        name), else its email address. Logs name logins by id only, never through this."""
        if self.is_application:
            return gettext("Application “%(name)s”") % {"name": self.first_name}
        person = getattr(self, "person", None)
        if person is not None:
            return person.full_name
        return self.get_full_name() or self.email


# --- The territory -------------------------------------------------------------------------


class Territory(models.Model):
    """The intercommunality (or the single town) that runs Sésame."""

    name = models.CharField(_("name"), max_length=120)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True)

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")

    def __str__(self) -> str:
        return self.name


class Commune(models.Model):
    """A commune. Members of the territory make their residents "residents" for tariffs;
    a commune with no territory is outside it (its residents pay the non-resident rate)."""

    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, null=True, blank=True, related_name="communes"
    )
    name = models.CharField(_("name"), max_length=120)
    insee_code = models.CharField(_("INSEE code"), max_length=5, unique=True)
    postcode = models.CharField(_("postcode"), max_length=5)

    class Meta:
        ordering = ["name"]
        verbose_name = _("commune")
        verbose_name_plural = _("communes")

    def __str__(self) -> str:
        return f"{self.name} ({self.postcode})"

    @property
    def is_member(self) -> bool:
        return self.territory_id is not None


class Facility(models.Model):
    """A place a commune runs and staff work at: a pool, a médiathèque, a school, a town hall.

    It lives here (not in services.catalog) because staff roles are scoped to it and identity is
    the lowest floor; the catalogue hangs access points, hours and products on it."""

    class Kind(models.TextChoices):
        POOL = "pool", _("Swimming pool")
        LIBRARY = "library", _("Library")
        SCHOOL = "school", _("School")
        TOWN_HALL = "town_hall", _("Town hall")
        OTHER = "other", _("Other")

    public_id = PublicIdField()
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="facilities")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # The postal address, and for a school its national identifier (UAI): both are on the
    # certificate of enrolment a school's head receives.
    address = models.CharField(_("address"), max_length=200, blank=True)
    uai = models.CharField(_("UAI code"), max_length=8, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")

    def __str__(self) -> str:
        return self.name


# Words a street name is written with in several ways: the matching form spells them out.
STREET_ABBREVIATIONS = {
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "ch": "chemin",
    "chem": "chemin",
    "imp": "impasse",
    "pl": "place",
    "r": "rue",
    "rte": "route",
    "sq": "square",
    "all": "allee",
    "fg": "faubourg",
    "st": "saint",
    "ste": "sainte",
    "pass": "passage",
    "res": "residence",
}
# A house number and its suffix at the start of an address line: "12", "12 bis", "12B", "3-5".
HOUSE_NUMBER = re.compile(r"^\s*\d+(?:\s*-\s*\d+)?\s*(?:bis|ter|quater|[a-d])?\b[\s,]*", re.I)


def normalise_street_name(name: str) -> str:
    """The form a street name is matched by: no accents, no case, no punctuation, common
    abbreviations spelled out ("Av. Jean-Jaurès" and "avenue jean jaures" match)."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    words = re.sub(r"[^a-z0-9]+", " ", plain).split()
    return " ".join(STREET_ABBREVIATIONS.get(word, word) for word in words)


def street_part(address_line: str) -> str:
    """The street of an address line, its house number left out ("12 bis, rue X" → "rue X")."""
    return HOUSE_NUMBER.sub("", address_line, count=1).strip()


class Street(models.Model):
    """A street (or a named place) of a commune, as the Base Adresse Nationale lists it: an
    address a resident types is checked against them (`identity.queries.street_for`)."""

    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="streets")
    name = models.CharField(_("name"), max_length=200)
    normalised = models.CharField(max_length=200, editable=False)

    class Meta:
        ordering = ["commune", "name"]
        verbose_name = _("street")
        verbose_name_plural = _("streets")
        constraints = [
            models.UniqueConstraint(
                fields=["commune", "normalised"], name="one_street_per_name_and_commune"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.normalised = normalise_street_name(self.name)
        super().save(*args, **kwargs)


# --- People and households -----------------------------------------------------------------


class Household(models.Model):
    """The people who live together: the unit for address, family quotient and quotas."""

    public_id = PublicIdField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        """Named after its eldest member, as the trail, the file and the admin show it ("Foyer
        de Camille Martin"); `members.all()` so that a prefetch serves a list of households."""
        members = list(self.members.all()) if self.pk else []
        if not members:
            return gettext("Household without members")
        return gettext("Household of %(name)s") % {"name": members[0].full_name}


class Person(models.Model):
    """A resident. Children and some adults have no login of their own."""

    class Role(models.TextChoices):
        ADULT = "adult", _("Adult")
        CHILD = "child", _("Child")

    public_id = PublicIdField()
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    user = models.OneToOneField(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="person"
    )
    role = models.CharField(_("role in the household"), max_length=10, choices=Role.choices)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("date of birth"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # A clerk confirmed this member belongs to the household (family record book, identity
    # document, at the counter): the household-size trust rule counts them at once.
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["birth_date", "pk"]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)


class GuardianshipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(ended_on__isnull=True)


class Guardianship(models.Model):
    """A guardian acts for a child: books, pays and manages the child's card.

    A link a clerk ends keeps its row with the day it ended (`ended_on`): only links without one
    count (`GuardianshipQuerySet.active`)."""

    guardian = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="wards")
    child = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="guardians")
    since = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    objects = GuardianshipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["guardian", "child"],
                condition=Q(ended_on__isnull=True),
                name="one_active_guardianship",
            ),
            models.CheckConstraint(
                condition=~Q(guardian=models.F("child")), name="guardian_is_not_child"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(guardian)s, guardian of %(child)s") % {
            "guardian": self.guardian,
            "child": self.child,
        }


class HouseholdAddress(models.Model):
    """One address of a household over a period. A move closes the current row and opens a new
    one: the history is never overwritten (residency on a past date decides past tariffs)."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="addresses")
    line1 = models.CharField(_("address"), max_length=200)
    line2 = models.CharField(_("address (continued)"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=5)
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(_("since"))
    valid_until = models.DateField(_("until"), null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A clerk saw a proof of this address dated `verified_from`: the household is resident
    # from that day whatever the residency trust rule (identity.trust).
    verified_from = models.DateField(_("resident from (verified proof)"), null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    evidence = models.CharField(max_length=60, blank=True, editable=False)

    class Meta:
        ordering = ["-valid_from", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(valid_until__isnull=True),
                name="one_current_address_per_household",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="address_period_is_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line1}, {self.postcode} {self.commune.name}"


class FamilyQuotient(models.Model):
    """A declared family quotient (quotient familial, in euros) for a period.

    Declarations are never edited: a later declaration covering the same days wins. A clerk's
    correction is a new row pointing at the one it corrects (`correction_of`), which then no
    longer counts but stays in the history."""

    class Source(models.TextChoices):
        DECLARED = "declared", _("Declared by the resident")
        VERIFIED = "verified", _("Verified by the town hall")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="quotients")
    amount = models.PositiveIntegerField(_("family quotient (€)"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DECLARED)
    declared_at = models.DateTimeField(default=timezone.now, editable=False)
    declared_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    correction_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="correction"
    )
    # What a clerk saw to verify it ("vault:<document id>" for a CAF certificate in the safe).
    evidence = models.CharField(max_length=60, blank=True, editable=False)

    class Meta:
        ordering = ["-valid_from", "-declared_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="quotient_period_is_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} — {short_date(self.valid_from)}"


# --- Staff ---------------------------------------------------------------------------------


class StaffRole(models.Model):
    """A role granted to a staff login, scoped to a facility where the role works at one."""

    class Role(models.TextChoices):
        POOL_AGENT = "pool_agent", _("Pool agent")
        LIBRARIAN = "librarian", _("Librarian")
        CANTEEN_AGENT = "canteen_agent", _("Canteen agent")
        SCHOOL_HEAD = "school_head", _("School head")
        CLERK = "clerk", _("Town-hall clerk")
        FINANCE_OFFICER = "finance_officer", _("Finance officer (régisseur)")
        ADMIN = "admin", _("Administrator")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="staff_roles"
    )
    granted_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "facility"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_grant_per_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} @ {self.facility or '*'}"


class ApiToken(models.Model):
    """A bearer token for staff applications and scripts. Only its hash is stored.

    It acts as its `user`: for a staff application, an account of its own whose staff roles are
    the token's scope (identity.actions.api_tokens)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    issued_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rotated_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token {self.prefix}"


# --- Audit trail ---------------------------------------------------------------------------


class AppendOnlyModel(models.Model):
    """A log row: written once, never updated or deleted (audit entries, taps)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} rows are append-only.")


class AccessReason(models.TextChoices):
    """Why a staff member opens a resident's file; stored as the code, shown translated."""

    COUNTER = "counter", _("Request at the counter")
    PHONE = "phone", _("Request by phone")
    PROCEDURE = "procedure", _("Handling a procedure")
    CORRECTION = "correction", _("Correcting the file")
    PAYMENT = "payment", _("Payment or invoice query")


class AuditEntry(AppendOnlyModel):
    """Who did or saw what, when, why and through which channel. Append-only."""

    class Channel(models.TextChoices):
        WEB = "web", _("Website")
        COUNTER = "counter", _("Counter")
        PHONE = "phone", _("Phone")
        API = "api", _("API")
        SYSTEM = "system", _("System")

    at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=60)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries"
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target = models.CharField(max_length=120, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    # What a correction changed: {field: [before, after]}, values as text (dates in ISO).
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["household", "-at"])]

    def __str__(self) -> str:
        return f"{self.action}, {short_date(self.at)}"

    @property
    def reason_label(self) -> str:
        """The reason in the reader's language when it is one of the coded reasons."""
        if self.reason in AccessReason.values:
            return str(AccessReason(self.reason).label)
        if self.reason.startswith(f"{AccessReason.PROCEDURE}:"):
            # "procedure:<file>": done from a procedure; its file's id is not for reading.
            return str(AccessReason.PROCEDURE.label)
        return self.reason


# --- Reduced-rate statuses -----------------------------------------------------------------


class ReducedRateStatus(models.Model):
    """A reduced-rate category a clerk verified for a person over a period (a student card, a
    France Travail certificate, a disability card), read by the tariff engine on the day of a
    sale. Personal data: recorded through an audited action, never through the admin. Rows are
    not edited: a renewal is a new row; `valid_until` is the last day covered (inclusive). A
    status a clerk ends early keeps its row: `ended_on` is then its last day covered."""

    class Category(models.TextChoices):
        STUDENT = "student", _("Student")
        JOB_SEEKER = "job_seeker", _("Job seeker")
        DISABILITY = "disability", _("Disability")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="reduced_rates")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    verified_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(default=timezone.now, editable=False)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-valid_from", "-pk"]
        verbose_name = _("reduced-rate status")
        verbose_name_plural = _("reduced-rate statuses")
        indexes = [models.Index(fields=["person", "valid_until"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="reduced_rate_period_is_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_category_display()}"

    @property
    def last_day(self) -> date:
        """The last day it covers: its end, or the day a clerk ended it."""
        return self.ended_on if self.ended_on is not None else self.valid_until


# --- Trust in residents' declarations --------------------------------------------------------


class TrustPolicy(models.Model):
    """How far the territory takes a resident's word for what lowers a price or raises a
    quota, per criterion (identity.trust applies it):

    - `immediate`: an unverified declaration applies at once;
    - `until_date`: it applies for `grace_days` after it was made, then waits for a clerk;
    - `await_verification`: only what a clerk verified applies.

    Whatever the mode, a verified value is never overridden by a newer unverified one, and a
    declaration that raises a price (a move out of the territory) applies at once. A criterion
    without a row is `immediate`."""

    class Criterion(models.TextChoices):
        FAMILY_QUOTIENT = "family_quotient", _("Family quotient")
        HOUSEHOLD_SIZE = "household_size", _("Household size")
        RESIDENCY = "residency", _("Residency")

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", _("Applies at once")
        UNTIL_DATE = "until_date", _("Applies for a grace period, then waits for a clerk")
        AWAIT_VERIFICATION = "await_verification", _("Waits for a clerk")

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="trust")
    criterion = models.CharField(_("criterion"), max_length=20, choices=Criterion.choices)
    mode = models.CharField(_("unverified declarations"), max_length=20, choices=Mode.choices)
    grace_days = models.PositiveSmallIntegerField(
        _("grace period (days)"),
        default=30,
        help_text=_("For “applies for a grace period”: days after the declaration."),
    )

    class Meta:
        verbose_name = _("trust rule")
        verbose_name_plural = _("trust rules")
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "criterion"], name="one_trust_rule_per_criterion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_criterion_display()}: {self.get_mode_display()}"
