"""Mobile numbers as people type them in France, normalised to E.164 (+33612345678)."""

import re

# National mobile prefixes of the overseas departments, which have country codes of their own.
OVERSEAS_MOBILE = {
    "0639": "+262639",  # Mayotte
    "0690": "+590690",  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    "0691": "+590691",
    "0692": "+262692",  # La Réunion
    "0693": "+262693",
    "0694": "+594694",  # Guyane
    "0696": "+596696",  # Martinique
    "0697": "+596697",
}
SEPARATORS = re.compile(r"[\s.\-/()]")


class InvalidNumber(ValueError):
    pass


def normalise_mobile(typed: str) -> str:
    """“06 12 34 56 78", "06.12.34.56.78", "+33 (0)6 12 34 56 78", "0033 6 12 34 56 78" →
    "+33612345678". A French landline (01 to 05, 09) cannot receive SMS and is refused; a
    number from abroad is kept as typed if it is a plausible international number."""
    number = SEPARATORS.sub("", typed.strip()).replace("+33(0)", "+33")
    if number.startswith("00"):
        number = "+" + number[2:]
    if number.startswith("+330"):
        number = "+33" + number[4:]
    if re.fullmatch(r"0\d{9}", number):
        for prefix, international in OVERSEAS_MOBILE.items():
            if number.startswith(prefix):
                return international + number[4:]
        number = "+33" + number[1:]
    if number.startswith("+33"):
        if not re.fullmatch(r"\+33[67]\d{8}", number):
            raise InvalidNumber("not a French mobile number")
        return number
    if not re.fullmatch(r"\+[1-9]\d{7,14}", number):
        raise InvalidNumber("not a phone number")
    return number
