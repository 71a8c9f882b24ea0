"""Identity rows built directly, without the actions' checks (tests of those checks call the
actions)."""

from identity import tokens
from identity.actions.api_tokens import API_TOKEN_LABEL
from identity.models import ApiToken, User


def api_token_for(user: User, *, name: str = "script") -> tuple[ApiToken, str]:
    """A bearer token acting as `user` (a staff member's own script), and its clear value."""
    new = tokens.new_token(API_TOKEN_LABEL)
    token = ApiToken.objects.create(user=user, name=name, prefix=new.prefix, key_hash=new.key_hash)
    return token, new.raw
