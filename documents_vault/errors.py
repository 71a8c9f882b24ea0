"""The safe's own refusals, on top of identity.errors (FileRefused is in inspection.py)."""

from identity.errors import DomainError


class DocumentUnreadable(DomainError):
    """A stored file that cannot be given back as it was written: its integrity check failed
    (tampered or damaged storage) or no configured master key unwraps its data key. Reported
    to the administrators; the caller shows the message, never the bytes."""

    status = 503
    code = "document_unreadable"


class StorageUnavailable(DomainError):
    """The safe's storage refused to store a file (disk full, object storage unreachable):
    nothing was kept, neither the object nor its rows; the resident may try again later."""

    status = 503
    code = "storage_unavailable"
