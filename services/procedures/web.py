"""A step of a procedure's form on a page: each field described for the template
(procedures/_field.html draws it by kind), and what was posted read back into the values the
actions take (an address's parts, a group's lines, a document picked or uploaded)."""

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from documents_vault import queries as vault_queries
from identity.models import AuditEntry, Commune, User

from .fields import (
    SEEN_AT_COUNTER,
    AddressField,
    ChoiceField,
    DocumentField,
    Field,
    GroupField,
    PersonField,
    Step,
    YesNoField,
)
from .models import SHARE_KIND, ProcedureEvent, ProcedureFile

NEW_DOCUMENT = "new"
Channel = AuditEntry.Channel


def _choices(field: Field, file: ProcedureFile, actor: User) -> list[tuple[str, str]]:
    if isinstance(field, ChoiceField):
        return [(code, str(label)) for code, label in field.choices]
    if isinstance(field, YesNoField):
        return [("yes", _("Yes")), ("no", _("No"))]
    if isinstance(field, PersonField):
        return [(m.public_id, m.full_name) for m in field.members(file.household)]
    if isinstance(field, DocumentField):
        documents = vault_queries.documents_for_picker(actor, file.applicant, field.kinds)
        return [
            (
                d.public_id,
                _("%(kind)s added on %(date)s")
                % {"kind": d.get_kind_display(), "date": d.created_at.strftime("%d/%m/%Y")},
            )
            for d in documents
        ]
    return []


def _value_for_page(field: Field, value: Any) -> Any:
    if isinstance(field, YesNoField) and value is not None:
        return "yes" if value else "no"
    return value


def describe(
    step: Step, *, file: ProcedureFile, actor: User, values: dict, errors: dict
) -> list[dict]:
    """The step's fields as the template draws them, with their values and errors."""
    rows = []
    for field in step.fields:
        value = _value_for_page(field, values.get(field.name))
        row = {
            "name": field.name,
            "kind": field.kind,
            "label": field.label,
            "help": field.help,
            "required": field.required,
            "value": value,
            "error": errors.get(field.name, ""),
            "choices": _choices(field, file, actor),
            "shown_when": field.shown_when,
        }
        if isinstance(field, ChoiceField | YesNoField | PersonField):
            row["kind"] = "choice"
        if isinstance(field, AddressField):
            communes = Commune.objects.all()
            if field.in_territory:
                communes = communes.filter(territory__isnull=False)
            row["communes"] = list(communes.values_list("insee_code", "name"))
            row["value"] = value or {}
        if isinstance(field, DocumentField) and file.channel == Channel.COUNTER:
            row["choices"].insert(0, (SEEN_AT_COUNTER, _("Paper document seen at the counter")))
        if isinstance(field, GroupField):
            lines = list(value or [])
            lines += [{}] * (field.maximum - len(lines))
            row["lines"] = [
                [
                    {
                        "name": f"{field.name}__{index}__{member.name}",
                        "label": member.label,
                        "kind": member.kind,
                        "value": line.get(member.name, ""),
                    }
                    for member in field.fields
                ]
                for index, line in enumerate(lines[: field.maximum])
            ]
        rows.append(row)
    return rows


def read_post(step: Step, post, files) -> tuple[dict, dict]:
    """The values and uploads of a step as posted: {name: value}, {name: (file name, bytes)}."""
    values: dict[str, Any] = {}
    uploads: dict[str, tuple[str, bytes]] = {}
    for field in step.fields:
        name = field.name
        if isinstance(field, AddressField):
            parts = {
                part: post.get(f"{name}__{part}", "")
                for part in ("line1", "line2", "postcode", "commune")
            }
            values[name] = parts if any(v.strip() for v in parts.values()) else None
        elif isinstance(field, GroupField):
            lines = []
            for index in range(field.maximum):
                line = {m.name: post.get(f"{name}__{index}__{m.name}", "") for m in field.fields}
                if any(v.strip() for v in line.values()):
                    lines.append(line)
            values[name] = lines
        elif isinstance(field, DocumentField):
            picked = post.get(name, "")
            upload = files.get(f"{name}__file")
            if picked == NEW_DOCUMENT or (upload is not None and not picked):
                if upload is not None:
                    try:
                        uploads[name] = (upload.name or "", upload.read())
                    finally:
                        upload.close()
                values[name] = None
            else:
                values[name] = picked
        else:
            values[name] = post.get(name, "")
    return values, uploads


def summary(file: ProcedureFile) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The answers step by step, in words, as the resident checks them before submitting."""
    kind = file.type
    sections = []
    for step in kind.steps:
        lines = [
            (str(field.label), field.display(file.data.get(field.name)))
            for field in step.fields
            if field.is_shown(file.data) and file.data.get(field.name) not in (None, "", [])
        ]
        sections.append((step.key, str(step.title), lines))
    return sections


def _joined_documents(file: ProcedureFile, events, *, staff: bool) -> dict[str, dict]:
    """What each joined document shows on a timeline line: its kind and, for the resident,
    the link to download it from the file; for staff, the link through the file's share
    while it is open (the safe's rule)."""
    ids = {public_id for event in events for public_id in event.documents}
    found = vault_queries.documents_by_public_id(ids)
    shares = {}
    if staff:
        shares = {
            share.document.public_id: share.public_id
            for share in vault_queries.open_shares_for_file(SHARE_KIND, file.public_id)
        }
    joined = {}
    for public_id in ids:
        document = found.get(public_id)
        if document is None:
            continue
        if staff:
            share = shares.get(public_id)
            url = reverse("documents_vault:shared_file", args=[share]) if share else ""
        elif document.is_deleted:
            url = ""
        else:
            url = reverse("procedures:attachment", args=[file.public_id, public_id])
        joined[public_id] = {
            "label": _("%(kind)s of %(name)s")
            % {"kind": document.get_kind_display(), "name": document.person.first_name},
            "url": url,
        }
    return joined


def timeline(file: ProcedureFile, events, *, staff: bool) -> list[dict]:
    """The timeline's lines in words: when, who (staff shown to the resident as the town
    hall), what, the message and the documents joined."""
    kind = file.type
    events = list(events)
    documents = _joined_documents(file, events, staff=staff)
    rows = []
    for event in events:
        if event.kind == ProcedureEvent.Kind.TRANSITION:
            what = _("Status: %(state)s") % {"state": kind.state_label(event.to_state, staff=staff)}
        elif event.kind == ProcedureEvent.Kind.ASSIGNED:
            what = (
                _("Assigned to %(name)s") % {"name": event.text}
                if event.text
                else _("No longer assigned")
            )
        else:
            what = event.get_kind_display()
        if event.actor is None:
            who = _("Sésame")
        elif staff or event.actor_id == file.applicant.user_id:
            who = event.actor.display_name
        else:
            who = _("The town hall")
        rows.append(
            {
                "at": event.at,
                "who": who,
                "what": what,
                "text": "" if event.kind == ProcedureEvent.Kind.ASSIGNED else event.text,
                "documents": [documents[d] for d in event.documents if d in documents],
                "internal": event.internal,
                "kind": event.kind,
            }
        )
    return rows
