"""CSV files that staff open in a spreadsheet: one way to write them.

A cell starting with =, +, - or @ is a formula to Excel and LibreOffice, so a resident who
names themselves "=HYPERLINK(...)" could run one on a clerk's machine (CSV injection, OWASP).
Such cells are prefixed with an apostrophe, which spreadsheets hide and treat as "text".

Numbers stay numbers: a `Decimal` (an amount in euros) is written with the French decimal comma
(`-12,50`), which a spreadsheet in French reads as a number in a `;`-separated file."""

import csv
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The value as text a spreadsheet shows, never evaluates. Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(
    *,
    filename: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    for_excel: bool = True,
) -> HttpResponse:
    """A semicolon-separated UTF-8 attachment (the French spreadsheet default), every cell made
    safe. `for_excel` starts it with a BOM so Excel reads accents right; files that other
    systems import (the library's ILS) go without."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if for_excel:
        response.write("\ufeff")
    writer = csv.writer(response, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(title) for title in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return response
