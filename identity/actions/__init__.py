"""Every change to people, households, staff roles, API tokens and the audit trail, one module
per use case (callers import from the use-case module). Staff reads of personal data live here
too, because each one writes an audit entry."""
