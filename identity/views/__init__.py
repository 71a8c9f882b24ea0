"""Identity pages, one module per use case: residents' household pages, the staff resident file,
the audit trail, staff applications' tokens."""
