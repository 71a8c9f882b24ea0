"""The document safe: each household's documents, their encrypted file versions, the files
they are shared with, and the log of every operation on them.

A Document is what the resident sees (a kind, the member it belongs to, an expiry date); its
content is a DocumentVersion, encrypted with a data key of its own (documents_vault.crypto)
and stored under a random name (documents_vault.storage). A replacement is a new version; the
old one is kept until the new one is accepted (at once, or when a clerk verifies it if the old
one was verified), then shredded: its wrapped data key is destroyed, so no copy of its object,
in a backup or elsewhere, can be read again. A deleted document keeps its row as a tombstone
(kind, dates, log) with every version shredded."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from identity.models import (
    AppendOnlyModel,
    Facility,
    Household,
    Person,
    PublicIdField,
    User,
    short_date,
)


class DocumentKind(models.TextChoices):
    FAMILY_RECORD_BOOK = "family_record_book", _("Family record book")
    PROOF_OF_ADDRESS = "proof_of_address", _("Proof of address")
    IDENTITY_DOCUMENT = "identity_document", _("Identity document")
    TAX_NOTICE = "tax_notice", _("Tax notice")
    CAF_CERTIFICATE = "caf_certificate", _("CAF certificate")
    VACCINATION_RECORD = "vaccination_record", _("Vaccination record")
    CARE_PLAN = "care_plan", _("Care plan (PAI)")
    MEDICAL_CERTIFICATE = "medical_certificate", _("Medical certificate")
    PHOTO = "photo", _("Photo")
    OTHER = "other", _("Other")


# Kinds printed with an end of validity: the resident gives it, the safe reminds before it.
KINDS_WITH_EXPIRY = frozenset(
    {
        DocumentKind.IDENTITY_DOCUMENT,
        DocumentKind.TAX_NOTICE,
        DocumentKind.CAF_CERTIFICATE,
        DocumentKind.CARE_PLAN,
    }
)
# Kinds a clerk verifies because they prove what a price or a quota depends on: residency
# (proof of address), the family quotient (CAF certificate, tax notice), the household's
# members (family record book). They go to the clerks' queue when uploaded.
KINDS_VERIFIED_BY_STAFF = frozenset(
    {
        DocumentKind.PROOF_OF_ADDRESS,
        DocumentKind.CAF_CERTIFICATE,
        DocumentKind.TAX_NOTICE,
        DocumentKind.FAMILY_RECORD_BOOK,
    }
)


class Document(models.Model):
    public_id = PublicIdField()
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="vault_documents"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind.choices)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The expiry date the last reminder was mailed for: a new date gets its own reminder.
    reminded_for = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["household", "deleted_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.person or self.household}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def is_expired(self, today=None) -> bool:
        return self.expires_on is not None and self.expires_on < (today or timezone.localdate())


class DocumentVersion(models.Model):
    class State(models.TextChoices):
        CURRENT = "current", _("Current")
        PENDING = "pending", _("Replacement waiting for verification")
        SHREDDED = "shredded", _("Destroyed")

    class Verification(models.TextChoices):
        NOT_REQUESTED = "none", _("Not submitted for verification")
        PENDING = "pending", _("Waiting for verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    public_id = PublicIdField()
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices)
    # The encrypted object: its random storage name, its data key wrapped by the master key
    # named `key_id`, and the SHA-256 of the stored bytes. All emptied when shredded.
    object_name = models.CharField(max_length=40, blank=True, db_index=True)
    wrapped_key = models.BinaryField(null=True, editable=False)
    key_id = models.CharField(max_length=16, blank=True, db_index=True)
    ciphertext_sha256 = models.CharField(max_length=64, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    original_name = models.CharField(max_length=160)
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    uploaded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verification = models.CharField(
        max_length=10, choices=Verification.choices, default=Verification.NOT_REQUESTED
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rejection_reason = models.CharField(max_length=300, blank=True)
    shredded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="vault_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["document"],
                condition=Q(state="current"),
                name="vault_one_current_version",
            ),
            models.UniqueConstraint(
                fields=["document"],
                condition=Q(state="pending"),
                name="vault_one_pending_version",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(document)s, version %(number)s") % {
            "document": self.document,
            "number": self.number,
        }

    @property
    def is_readable(self) -> bool:
        return self.state != self.State.SHREDDED and self.wrapped_key is not None


# The clerks' verification queue, as a file documents are shared with.
VERIFICATION_TARGET = "vault_verification"
VERIFICATION_LABEL = _("Verification by the town hall")


class Share(models.Model):
    """A document shared on purpose with one file handled by staff (a card request, a
    procedure, a canteen absence, the clerks' verification queue). Staff holding
    `capability` (at `facility` when set) read the document while the share is open; closing
    the file, the resident revoking it or the document's deletion ends it.

    The file is named generically, so that any app can ask for a document without the safe
    knowing it: `target_kind` ("card_request", "vault_verification", …) and `target_id` (the
    file's public id), with a label the resident reads ("Card request for Léa")."""

    class CloseReason(models.TextChoices):
        FILE_CLOSED = "file_closed", _("The file was closed")
        REVOKED = "revoked", _("Withdrawn by the resident")
        DOCUMENT_DELETED = "document_deleted", _("The document was deleted")

    public_id = PublicIdField()
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="shares")
    target_kind = models.CharField(max_length=40)
    target_id = models.CharField(max_length=40)
    target_label = models.CharField(max_length=200)
    capability = models.CharField(max_length=40)
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now, editable=False)
    opened_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["target_kind", "target_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "target_kind", "target_id"],
                condition=Q(closed_at__isnull=True),
                name="vault_one_open_share_per_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document} → {self.target_label}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def label(self) -> str:
        """What the resident reads: the queue's name in their language, else the file's label."""
        if self.target_kind == VERIFICATION_TARGET:
            return str(VERIFICATION_LABEL)
        return self.target_label


class DocumentEvent(AppendOnlyModel):
    """One operation on a document: the log the resident reads (who, when, for which file)."""

    class Action(models.TextChoices):
        UPLOADED = "uploaded", _("Added")
        REPLACED = "replaced", _("New version added")
        REPLACEMENT_ACCEPTED = "replacement_accepted", _("New version accepted")
        DOWNLOADED = "downloaded", _("Downloaded")
        READ_BY_STAFF = "read_by_staff", _("Read by staff")
        SHARED = "shared", _("Shared")
        SHARE_CLOSED = "share_closed", _("Sharing ended")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")
        EXPORTED = "exported", _("Exported")
        DELETED = "deleted", _("Deleted")
        INTEGRITY_FAILURE = "integrity_failure", _("Integrity check failed")

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="events")
    version = models.ForeignKey(
        DocumentVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    share = models.ForeignKey(
        Share, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=30, choices=Action.choices)
    reason = models.CharField(max_length=300, blank=True)
    channel = models.CharField(max_length=10, default="web")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["document", "-at"])]

    def __str__(self) -> str:
        return f"{self.document} — {self.action}, {short_date(self.at)}"
