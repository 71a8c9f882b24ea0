"""The engine's refusals, beyond identity.errors: several fields at once, a second request."""

from identity.errors import Conflict, DomainError


class FieldErrors(DomainError):
    """Answers refused, each with a message naming its field (the API's 422)."""

    status = 422
    code = "invalid_fields"

    def __init__(self, errors: dict[str, str]):
        first = next(iter(errors))
        super().__init__(errors[first], field=first)
        self.errors = errors

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": str(self.message),
            "errors": [{"field": name, "message": str(m)} for name, m in self.errors.items()],
        }


class AlreadyOpen(Conflict):
    """The resident already has an open request of this type: `existing` is its public id."""

    code = "already_open"

    def __init__(self, message: str, *, existing: str):
        super().__init__(message)
        self.existing = existing

    def as_dict(self) -> dict:
        return {**super().as_dict(), "existing": self.existing}
