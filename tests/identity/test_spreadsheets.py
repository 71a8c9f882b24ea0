import csv
import io
from decimal import Decimal

import pytest

from identity.spreadsheets import csv_response, safe_cell


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 6 12", "'+33 6 12"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Dupont", "Dupont"),
        ("", ""),
        (None, ""),
        (-1250, "-1250"),
        (3.5, "3.5"),
        (Decimal("-12.50"), "-12,50"),
        (Decimal(125000).scaleb(-2), "1250,00"),
    ],
)
def test_a_cell_a_spreadsheet_would_evaluate_is_shown_as_text(value, shown):
    assert safe_cell(value) == shown


def test_a_staff_report_has_a_bom_for_excel_and_safe_cells():
    response = csv_response(filename="report.csv", header=["Nom", "Montant"], rows=[["=1+1", -300]])

    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert response["Content-Disposition"] == 'attachment; filename="report.csv"'
    assert list(csv.reader(io.StringIO(text[1:]), delimiter=";")) == [
        ["Nom", "Montant"],
        ["'=1+1", "-300"],
    ]


def test_a_file_another_system_imports_has_no_bom():
    response = csv_response(filename="x.csv", header=["a"], rows=[], for_excel=False)

    assert response.content.decode("utf-8") == "a\r\n"
