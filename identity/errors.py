"""Domain errors: raised by actions, turned into a page message or a 4xx by views and routers."""


class DomainError(Exception):
    """A refusal the person can understand. `field` names the input at fault, when there is one."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict:
        payload = {"code": self.code, "message": str(self.message)}
        if self.field:
            payload["field"] = self.field
        return payload


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
