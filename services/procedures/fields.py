"""The typed fields a procedure type's form is declared with.

A field cleans what a resident typed (a string from a page, a JSON value from the API) into the
value stored in the file's `data` (JSON: dates in ISO, documents and people by public id), or
refuses it with a message naming it (`FieldError`). Each field also describes itself as JSON
Schema for the API. A field may be shown only when another field has one of some values
(`Condition`): a hidden field is neither asked nor kept."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from identity import queries as identity_queries
from identity.models import Commune, Household, Person

Label = str | Promise


class FieldError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Condition:
    """Shown only when `field` (of the same form) holds one of `values`."""

    field: str
    values: tuple[Any, ...]

    def holds(self, data: Mapping[str, Any]) -> bool:
        return data.get(self.field) in self.values


@dataclass(frozen=True)
class Context:
    """What a field may check a value against: the household the file is for, and today."""

    household: Household
    today: date


@dataclass(frozen=True, kw_only=True)
class Field:
    name: str
    label: Label
    required: bool = True
    help: Label = ""
    shown_when: Condition | None = None
    # A key of services.procedures.prefill.known(person): the value the town already knows.
    prefill: str = ""
    # The help computed for the file's household on the day the step is drawn (the school of
    # the household's address), in place of `help` on the page.
    help_for: Callable[[Context], str] | None = None

    kind: ClassVar[str] = "text"

    def is_shown(self, data: Mapping[str, Any]) -> bool:
        return self.shown_when is None or self.shown_when.holds(data)

    def is_empty(self, raw: Any) -> bool:
        return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == [] or raw == {}

    def clean(self, raw: Any, context: Context) -> Any:
        """The stored value of `raw`, or FieldError. Not called for an empty value. Each kind
        of field refines it; here, text."""
        return _text(raw)

    def value_schema(self) -> dict:
        return {"type": "string"}

    def json_schema(self) -> dict:
        schema = {"title": str(self.label), **self.value_schema()}
        if self.help:
            schema["description"] = str(self.help)
        if self.shown_when is not None:
            schema["x-shown-when"] = {
                "field": self.shown_when.field,
                "values": list(self.shown_when.values),
            }
        return schema

    def display(self, value: Any, context: Context | None = None) -> str:
        """The value as the summary and the staff page show it."""
        return "" if value is None else str(value)


def _text(raw: Any) -> str:
    if not isinstance(raw, str | int | float):
        raise FieldError(_("Enter text."))
    return str(raw).strip()


@dataclass(frozen=True, kw_only=True)
class TextField(Field):
    max_length: int = 200
    multiline: bool = False

    def clean(self, raw, context):
        value = _text(raw)
        if len(value) > self.max_length:
            raise FieldError(_("At most %(count)s characters.") % {"count": self.max_length})
        return value

    def value_schema(self):
        return {"type": "string", "maxLength": self.max_length}


PHONE = re.compile(r"^(?:\+33|0033|0)([1-9]\d{8})$")


@dataclass(frozen=True, kw_only=True)
class PhoneField(Field):
    """A French phone number, stored in E.164 form (+33 and nine digits)."""

    kind: ClassVar[str] = "phone"

    def clean(self, raw, context):
        digits = re.sub(r"[\s.\-()]", "", _text(raw))
        match = PHONE.match(digits)
        if match is None:
            raise FieldError(_("This is not a French phone number (ten digits, 06 12 34 56 78)."))
        return f"+33{match.group(1)}"

    def value_schema(self):
        return {"type": "string", "pattern": r"^(\+33|0)[1-9][0-9 .]{8,}$"}

    def display(self, value, context=None):
        if not value:
            return ""
        national = "0" + str(value)[3:]
        return " ".join(national[i : i + 2] for i in range(0, 10, 2))


@dataclass(frozen=True, kw_only=True)
class EmailField(Field):
    kind: ClassVar[str] = "email"

    def clean(self, raw, context):
        value = _text(raw)
        if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            raise FieldError(_("This is not an email address."))
        return value.lower()

    def value_schema(self):
        return {"type": "string", "format": "email"}


@dataclass(frozen=True, kw_only=True)
class ChoiceField(Field):
    choices: tuple[tuple[str, Label], ...] = ()

    kind: ClassVar[str] = "choice"

    def clean(self, raw, context):
        value = _text(raw)
        if value not in {code for code, _label in self.choices}:
            raise FieldError(_("Choose one of the options."))
        return value

    def value_schema(self):
        return {
            "type": "string",
            "enum": [code for code, _label in self.choices],
            "x-labels": {code: str(label) for code, label in self.choices},
        }

    def display(self, value, context=None):
        return next((str(label) for code, label in self.choices if code == value), "")


@dataclass(frozen=True, kw_only=True)
class DateField(Field):
    """A day; `past` or `future` limits which side of today it may be on (today allowed)."""

    past: bool = False
    future: bool = False

    kind: ClassVar[str] = "date"

    def clean(self, raw, context):
        if isinstance(raw, date):
            day = raw
        else:
            text = _text(raw)
            try:
                if re.match(r"^\d{2}/\d{2}/\d{4}$", text):
                    day = date(int(text[6:]), int(text[3:5]), int(text[:2]))
                else:
                    day = date.fromisoformat(text)
            except ValueError as error:
                raise FieldError(_("Enter a date as DD/MM/YYYY.")) from error
        if self.past and day > context.today:
            raise FieldError(_("This date is in the future."))
        if self.future and day < context.today:
            raise FieldError(_("This date is in the past."))
        if day.year < context.today.year - 150:
            raise FieldError(_("This date is too far in the past."))
        return day.isoformat()

    def value_schema(self):
        return {"type": "string", "format": "date"}

    def display(self, value, context=None):
        if not value:
            return ""
        return date.fromisoformat(value).strftime("%d/%m/%Y")


@dataclass(frozen=True, kw_only=True)
class NumberField(Field):
    minimum: int = 0
    maximum: int = 10**9

    kind: ClassVar[str] = "number"

    def clean(self, raw, context):
        if isinstance(raw, bool):
            raise FieldError(_("Enter a whole number."))
        try:
            value = int(str(raw).strip().replace(" ", ""))
        except ValueError as error:
            raise FieldError(_("Enter a whole number.")) from error
        if not self.minimum <= value <= self.maximum:
            raise FieldError(
                _("Enter a number between %(min)s and %(max)s.")
                % {"min": self.minimum, "max": self.maximum}
            )
        return value

    def value_schema(self):
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


TRUE_WORDS = {"true", "1", "yes", "on", "oui"}
FALSE_WORDS = {"false", "0", "no", "off", "non"}


@dataclass(frozen=True, kw_only=True)
class YesNoField(Field):
    kind: ClassVar[str] = "yes_no"

    def is_empty(self, raw):
        return raw is None or raw == ""

    def clean(self, raw, context):
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise FieldError(_("Answer yes or no."))

    def value_schema(self):
        return {"type": "boolean"}

    def display(self, value, context=None):
        if value is None:
            return ""
        return _("Yes") if value else _("No")


@dataclass(frozen=True, kw_only=True)
class PersonField(Field):
    """A member of the file's household, by public id."""

    adults_only: bool = False

    kind: ClassVar[str] = "person"

    def members(self, household: Household) -> list[Person]:
        members = household.members.all()
        if self.adults_only:
            members = members.filter(role=Person.Role.ADULT)
        return list(members)

    def clean(self, raw, context):
        wanted = _text(raw)
        member = next((m for m in self.members(context.household) if m.public_id == wanted), None)
        if member is None:
            raise FieldError(_("Choose a member of your household."))
        return member.public_id

    def value_schema(self):
        return {"type": "string", "description": "public id of a household member"}

    def display(self, value, context=None):
        if not value:
            return ""
        person = Person.objects.filter(public_id=value).first()
        return person.full_name if person else ""


@dataclass(frozen=True, kw_only=True)
class AddressField(Field):
    """An address on one of the territory's streets: {"line1", "line2", "postcode",
    "commune" (its INSEE code)}. The commune must be a member of the territory and, once its
    streets are imported, the street one of them. `in_territory=False` (where a letter is
    sent) takes a commune outside it too."""

    in_territory: bool = True

    kind: ClassVar[str] = "address"

    def clean(self, raw, context):
        if not isinstance(raw, Mapping):
            raise FieldError(_("Enter the address."))
        line1 = _text(raw.get("line1") or "")
        line2 = _text(raw.get("line2") or "")
        postcode = _text(raw.get("postcode") or "")
        insee = _text(raw.get("commune") or "")
        if not line1:
            raise FieldError(_("Enter the street address."))
        commune = Commune.objects.filter(insee_code=insee).first()
        if commune is None:
            raise FieldError(_("Choose the commune."))
        if self.in_territory and not commune.is_member:
            raise FieldError(_("This address is outside the territory."))
        if not re.match(r"^\d{5}$", postcode):
            raise FieldError(_("A postcode has five digits."))
        if commune.is_member and identity_queries.streets_known(commune):
            street = identity_queries.street_for(commune, line1)
            if street is None:
                raise FieldError(
                    _("There is no such street in %(commune)s.") % {"commune": commune.name}
                )
        return {
            "line1": line1[:200],
            "line2": line2[:200],
            "postcode": postcode,
            "commune": commune.insee_code,
        }

    def value_schema(self):
        return {
            "type": "object",
            "properties": {
                "line1": {"type": "string"},
                "line2": {"type": "string"},
                "postcode": {"type": "string", "pattern": "^[0-9]{5}$"},
                "commune": {"type": "string", "description": "INSEE code"},
            },
            "required": ["line1", "postcode", "commune"],
        }

    def display(self, value, context=None):
        if not value:
            return ""
        commune = Commune.objects.filter(insee_code=value.get("commune")).first()
        parts = [value.get("line1", ""), value.get("line2", "")]
        parts.append(f"{value.get('postcode', '')} {commune.name if commune else ''}".strip())
        return ", ".join(p for p in parts if p)


# At the counter the clerk sees the paper document: the field records that instead of a file.
SEEN_AT_COUNTER = "seen_at_counter"


@dataclass(frozen=True, kw_only=True)
class DocumentField(Field):
    """A document from the household's safe, of one of `kinds` (documents_vault.DocumentKind),
    by public id. The engine shares it with the file (documents_vault.attach_document), which
    refuses a document of another kind or of another household."""

    kinds: tuple[str, ...] = ()

    kind: ClassVar[str] = "document"

    def clean(self, raw, context):
        value = _text(raw)
        if not value:
            raise FieldError(_("Pick a document from your safe or add a new one."))
        return value

    def value_schema(self):
        return {
            "type": "string",
            "description": "public id of a document of the safe",
            "x-document-kinds": list(self.kinds),
        }

    def display(self, value, context=None):
        return _("Document from the safe") if value else ""


@dataclass(frozen=True, kw_only=True)
class GroupField(Field):
    """A group of fields repeated `minimum` to `maximum` times (the people of a request, the
    phone numbers of an alert sign-up): a list of {name: value}."""

    fields: tuple[Field, ...] = ()
    minimum: int = 1
    maximum: int = 10

    kind: ClassVar[str] = "group"

    def clean(self, raw, context):
        if not isinstance(raw, list | tuple):
            raise FieldError(_("Enter at least one line."))
        rows = [row for row in raw if isinstance(row, Mapping) and any(row.values())]
        if len(rows) < self.minimum:
            raise FieldError(_("Enter at least %(count)s line(s).") % {"count": self.minimum})
        if len(rows) > self.maximum:
            raise FieldError(_("At most %(count)s lines.") % {"count": self.maximum})
        cleaned = []
        for number, row in enumerate(rows, start=1):
            values = {}
            for member in self.fields:
                raw_value = row.get(member.name)
                if member.is_empty(raw_value):
                    if member.required:
                        raise FieldError(
                            _("Line %(number)s: %(field)s is required.")
                            % {"number": number, "field": member.label}
                        )
                    continue
                try:
                    values[member.name] = member.clean(raw_value, context)
                except FieldError as error:
                    raise FieldError(
                        _("Line %(number)s, %(field)s: %(message)s")
                        % {"number": number, "field": member.label, "message": error.message}
                    ) from error
            cleaned.append(values)
        return cleaned

    def value_schema(self):
        return {
            "type": "array",
            "minItems": self.minimum,
            "maxItems": self.maximum,
            "items": {
                "type": "object",
                "properties": {m.name: m.json_schema() for m in self.fields},
                "required": [m.name for m in self.fields if m.required],
            },
        }

    def display(self, value, context=None):
        if not value:
            return ""
        return " ; ".join(
            ", ".join(m.display(row.get(m.name)) for m in self.fields if row.get(m.name))
            for row in value
        )


@dataclass(frozen=True)
class Step:
    """One page of a form: a draft is saved at each."""

    key: str
    title: Label
    fields: tuple[Field, ...] = field(default_factory=tuple)
