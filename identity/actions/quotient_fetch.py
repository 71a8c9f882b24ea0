"""A household's family quotient fetched from the CAF or the MSA (API Particulier), with the
consent of the adult who asks: recorded in the audit trail before the call. A fetched quotient
counts as verified (the tariff engine trusts it like a clerk's). When the API times out or
fails, the declared quotient stays and the resident reads why."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity import quotient_api
from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.models import FamilyQuotient, Household, Person, User
from identity.permissions import can_manage_household

from .household import MAX_FAMILY_QUOTIENT

logger = logging.getLogger(__name__)

# A fetched quotient holds for a year (the CAF recomputes it each January and on changes: the
# resident fetches it again then).
FETCHED_FOR = timedelta(days=365)
SEXES = ("F", "M")


def fetch_family_quotient(
    *,
    actor: User,
    household: Household,
    person: Person,
    consent: bool,
    sex: str,
    birth_country: str = quotient_api.FRANCE,
    birth_commune: str = "",
) -> FamilyQuotient:
    """Fetch the quotient of `person` (an adult of the household, the CAF or MSA beneficiary)
    and record it, verified, from today for a year. Refusals name the field: consent, sex,
    birth_commune (born in France), birth_country; code `provider_unavailable` or `not_found`
    when the API could not give it (the quotient already recorded stays)."""
    if not can_manage_household(actor, household) or person.household_id != household.pk:
        raise Forbidden(_("You cannot change this household."))
    if person.role != Person.Role.ADULT:
        raise DomainError(_("Choose the adult who receives the benefits."), field="person")
    if consent is not True:
        raise DomainError(
            _("Tick the box to let the town hall ask the CAF or the MSA."), field="consent"
        )
    if sex not in SEXES:
        raise DomainError(_("Choose the sex written on the civil status."), field="sex")
    if not (len(birth_country) == 5 and birth_country.startswith("99") and birth_country.isdigit()):
        raise DomainError(_("Choose the country of birth."), field="birth_country")
    if birth_country == quotient_api.FRANCE and not (
        len(birth_commune) == 5 and birth_commune.isalnum()
    ):
        raise DomainError(
            _("Enter the INSEE code of the commune of birth (5 characters, e.g. 46042)."),
            field="birth_commune",
        )
    provider = quotient_api.quotient_provider()
    if provider is None:
        raise DomainError(
            _("The town has not set up the CAF/MSA link: declare your quotient instead."),
            code="not_configured",
        )
    # The consent is recorded (committed) before anything leaves for the API.
    record_audit_entry(
        actor=actor,
        action="household.quotient_fetch_consented",
        household=household,
        person=person,
        target="api_particulier",
    )
    civil_status = quotient_api.CivilStatus(
        birth_name=person.last_name,
        first_names=person.first_name.split(),
        sex=sex,
        birth_date=person.birth_date,
        birth_country=birth_country,
        birth_commune=birth_commune if birth_country == quotient_api.FRANCE else "",
    )
    try:
        found = provider.fetch(civil_status)
    except quotient_api.QuotientNotFound as error:
        raise DomainError(
            _(
                "The CAF and the MSA found no file with these details: check them, or declare "
                "your quotient with your certificate."
            ),
            code="not_found",
        ) from error
    except quotient_api.QuotientUnavailable as error:
        logger.warning("quotient fetch failed household=%s reason=%s", household.pk, error.reason)
        raise DomainError(
            _(
                "The CAF/MSA service did not answer. Your quotient on record is kept; try again "
                "later."
            ),
            code="provider_unavailable",
        ) from error
    if not 0 <= found.amount <= MAX_FAMILY_QUOTIENT:
        logger.warning("quotient fetch out of range household=%s", household.pk)
        raise DomainError(
            _(
                "The CAF/MSA service did not answer. Your quotient on record is kept; try again "
                "later."
            ),
            code="provider_unavailable",
        )
    today = timezone.localdate()
    with transaction.atomic():
        quotient = FamilyQuotient.objects.create(
            household=household,
            amount=found.amount,
            valid_from=today,
            valid_until=today + FETCHED_FOR - timedelta(days=1),
            source=FamilyQuotient.Source.VERIFIED,
            declared_by=actor,
            evidence=f"api_particulier:{found.provider}:{found.year}-{found.month:02d}"[:60],
        )
        record_audit_entry(
            actor=actor,
            action="household.quotient_fetched",
            household=household,
            person=person,
            target=f"api_particulier:{found.provider}",
        )
    logger.info("quotient fetched household=%s provider=%s", household.pk, found.provider)
    return quotient
