"""Identity rows built directly, without the actions' checks (tests of those checks call the
actions)."""

from datetime import date

from identity import tokens
from identity.actions.api_tokens import API_TOKEN_LABEL
from identity.models import ApiToken, HouseholdAddress, Person, User


def api_token_for(user: User, *, name: str = "script") -> tuple[ApiToken, str]:
    """A bearer token acting as `user` (a staff member's own script), and its clear value."""
    new = tokens.new_token(API_TOKEN_LABEL)
    token = ApiToken.objects.create(user=user, name=name, prefix=new.prefix, key_hash=new.key_hash)
    return token, new.raw


def two_addresses(resident: Person, *, first_until: date, second_from: date):
    """The resident's household lived at its first address until `first_until` and at 8 quai
    Cavaignac from `second_from` (the current one): returns both rows, oldest first."""
    first = resident.household.addresses.get()
    first.valid_until = first_until
    first.save()
    second = HouseholdAddress.objects.create(
        household=resident.household,
        line1="8 quai Cavaignac",
        postcode="46000",
        commune=first.commune,
        valid_from=second_from,
    )
    return first, second
