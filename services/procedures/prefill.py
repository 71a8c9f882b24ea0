"""What the town already knows about a resident, so that a form never asks it again: a field
declared with `prefill="<key>"` starts with the value under that key."""

from django.utils import timezone

from identity import queries as identity_queries
from identity.models import Person


def known(person: Person) -> dict:
    today = timezone.localdate()
    address = identity_queries.current_address(person.household, on=today)
    quotient = identity_queries.family_quotient_on(person.household, today)
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "birth_date": person.birth_date.isoformat(),
        "person": person.public_id,
        "email": person.user.email if person.user_id else "",
        "address": (
            {
                "line1": address.line1,
                "line2": address.line2,
                "postcode": address.postcode,
                "commune": address.commune.insee_code,
            }
            if address is not None
            else None
        ),
        "household_members": [member.public_id for member in person.household.members.all()],
        "family_quotient": quotient.amount if quotient is not None else None,
    }
