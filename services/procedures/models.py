"""A resident's procedure file and its timeline. Rows are written by the actions only.

A file is a draft until submitted; `data` holds the cleaned answers (JSON). `is_open` marks a
submitted file not yet closed: a resident has at most one per procedure type (a constraint,
so that two submissions at once cannot both pass). The timeline (`ProcedureEvent`) is
append-only: every submission, transition, message, comment and assignment is a row."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models import (
    AppendOnlyModel,
    AuditEntry,
    Household,
    Person,
    PublicIdField,
    User,
    short_date,
)

from .types import STATE_LABELS, procedure_type

# What the resident reads in the safe's log as the file a document is shared with.
SHARE_KIND = "procedure"


class ProcedureFile(models.Model):
    public_id = PublicIdField()
    type_key = models.CharField(max_length=60)
    service_key = models.CharField(max_length=60)
    applicant = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=30, default="draft")
    data = models.JSONField(default=dict, blank=True)
    # The last step saved (a draft resumes after it).
    step = models.CharField(max_length=60, blank=True)
    channel = models.CharField(
        max_length=10, choices=AuditEntry.Channel.choices, default=AuditEntry.Channel.WEB
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    is_open = models.BooleanField(default=False)
    assigned_to = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A draft untouched for long: when the resident was reminded it would be deleted.
    reminded_at = models.DateTimeField(null=True, blank=True)
    # Assisted mode: the resident's consent to a clerk submitting for them.
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_given_by = models.CharField(max_length=200, blank=True)
    consent_purpose = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        verbose_name = _("procedure file")
        verbose_name_plural = _("procedure files")
        indexes = [
            models.Index(fields=["service_key", "state"]),
            models.Index(fields=["state", "updated_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "type_key"],
                condition=Q(is_open=True),
                name="one_open_procedure_per_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.applicant}, {short_date(self.created_at)}"

    @property
    def type(self):
        return procedure_type(self.type_key)

    @property
    def name(self) -> str:
        kind = self.type
        return str(kind.name) if kind is not None else self.type_key

    def state_label(self, *, staff: bool = False) -> str:
        kind = self.type
        if kind is None:
            return str(STATE_LABELS.get(self.state, self.state))
        return kind.state_label(self.state, staff=staff)

    @property
    def staff_state_label(self) -> str:
        return self.state_label(staff=True)

    def is_late(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.is_open and self.due_on is not None and self.due_on < today


class ProcedureEvent(AppendOnlyModel):
    """One line of a file's timeline."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Started")
        SUBMITTED = "submitted", _("Submitted")
        TRANSITION = "transition", _("Status changed")
        MESSAGE = "message", _("Message")
        COMMENT = "comment", _("Internal comment")
        ASSIGNED = "assigned", _("Assigned")
        REMINDED = "reminded", _("Reminder sent")

    file = models.ForeignKey(ProcedureFile, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, editable=False)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    transition = models.CharField(max_length=40, blank=True)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    text = models.TextField(blank=True)
    # Internal comments and assignments are for staff only.
    internal = models.BooleanField(default=False)
    # Documents of the safe attached to a message (public ids of the shares).
    documents = models.JSONField(default=list, blank=True)
    channel = models.CharField(
        max_length=10, choices=AuditEntry.Channel.choices, default=AuditEntry.Channel.WEB
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.file} — {short_date(self.at)}"
