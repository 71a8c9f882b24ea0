"""The site's own pages: the legal notice, personal data, accessibility and contact pages that
every footer links to, editable by administrators in the admin."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LegalPage(models.Model):
    """One of the four pages of the footer. An empty text shows the page's default
    (portal/templates/portal/legal/<kind>.html, drawn from what Sésame holds); what the
    administrators write replaces it."""

    class Kind(models.TextChoices):
        LEGAL_NOTICE = "legal_notice", _("Legal notice")
        PRIVACY = "privacy", _("Personal data")
        ACCESSIBILITY = "accessibility", _("Accessibility")
        CONTACT = "contact", _("Contact")

    kind = models.CharField(_("page"), max_length=20, choices=Kind.choices, unique=True)
    body = models.TextField(
        _("text"),
        blank=True,
        help_text=_(
            "Leave empty to show the default text. Paragraphs are separated by an empty line; "
            "a line starting with “## ” is a heading, a line starting with “- ” an item of a list."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["kind"]
        verbose_name = _("legal page")
        verbose_name_plural = _("legal pages")

    def __str__(self) -> str:
        return str(self.get_kind_display())


class TaskLease(models.Model):
    """A background task's lease (portal.task_leases): the worker running it renews it while
    the task runs; once it has expired, the worker is presumed dead and any worker puts the
    task back in the queue."""

    task_id = models.UUIDField(primary_key=True)
    worker_id = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("task lease")
        verbose_name_plural = _("task leases")

    def __str__(self) -> str:
        return f"lease of task {self.task_id}"
