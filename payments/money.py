"""Amounts as people read them. Imports nothing of payments, so that the models may use it."""


def format_cents(cents: int) -> str:
    """12345 → "123,45 €" (French notation, the pages' and PDFs' currency format)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(int(cents)), 100)
    grouped = f"{euros:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{rest:02d}\u00a0€"
