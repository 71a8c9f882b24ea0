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
