"""Writes of the portal's own pages (the footer's legal pages)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Forbidden
from identity.models import User
from identity.permissions import Capability, has_capability

from .models import LegalPage


@transaction.atomic
def update_legal_page(*, actor: User, kind: str, body: str) -> LegalPage:
    """Replace the text of a legal page (an empty text brings back the default one)."""
    if not (actor.is_superuser or has_capability(actor, Capability.MANAGE_TERRITORY)):
        raise Forbidden(_("Your role does not allow this."))
    page, _created = LegalPage.objects.select_for_update().get_or_create(kind=kind)
    page.body = body.strip()
    page.updated_at = timezone.now()
    page.updated_by = actor
    page.save()
    record_audit_entry(actor=actor, action="portal.legal_page_updated", target=kind)
    return page
