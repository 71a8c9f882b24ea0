"""Identity pages, one module per use case: residents' household pages (household), the staff
resident file (staff) and its corrections (corrections), the audit trail (audit), staff
applications' tokens (api_tokens); who may open them (decorators)."""
