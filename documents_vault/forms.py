"""Forms of the document safe's pages. They only shape the input: every rule (types, sizes,
expiry dates, who may do what) is checked by the actions, whose refusals the views put next to
the field they name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from identity.forms import DateInput
from identity.models import Person

from .inspection import max_upload_bytes
from .models import KINDS_WITH_EXPIRY, DocumentKind

ACCEPT = "application/pdf,image/jpeg,image/png,image/heic,image/heif,.heic,.heif"


def _file_field(**kwargs) -> forms.FileField:
    megabytes = max_upload_bytes() / (1024 * 1024)
    return forms.FileField(
        label=kwargs.pop("label", _("File")),
        help_text=_("A scan or a photo: PDF, JPEG, PNG or HEIC, %(size)s MB at most.")
        % {"size": f"{megabytes:g}"},
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        **kwargs,
    )


def _expiry_field() -> forms.DateField:
    kinds = ", ".join(
        str(label) for value, label in DocumentKind.choices if value in KINDS_WITH_EXPIRY
    )
    return forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=DateInput(),
        help_text=_("Only for documents with an end of validity (%(kinds)s).") % {"kinds": kinds},
    )


class UploadForm(forms.Form):
    file = _file_field()
    kind = forms.ChoiceField(
        label=_("Kind of document"), choices=[("", "—"), *DocumentKind.choices]
    )
    person = forms.ChoiceField(label=_("Whose document is it?"))

    def __init__(self, *args, members: list[Person], me: Person | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {member.public_id: member for member in members}
        if me is not None:
            self.fields["person"].initial = me.public_id
        self.fields["person"].choices = [(member.public_id, member.full_name) for member in members]
        self.fields["expires_on"] = _expiry_field()  # built here: its help text is translated

    def chosen_person(self) -> Person:
        return self.members[self.cleaned_data["person"]]


class ReplaceForm(forms.Form):
    file = _file_field(label=_("New version"))
    replaces = forms.CharField(widget=forms.HiddenInput, required=False, max_length=24)
    expires_on = forms.DateField(label=_("New expiry date"), required=False, widget=DateInput())


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it rejected? (the resident reads it)"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class VerifyForm(forms.Form):
    """What the clerk read on the proof: the fields of its kind only."""

    def __init__(self, *args, kind: str, members: list[Person], **kwargs):
        super().__init__(*args, **kwargs)
        if kind == DocumentKind.PROOF_OF_ADDRESS:
            self.fields["proof_date"] = forms.DateField(
                label=_("Date printed on the proof"),
                widget=DateInput(),
                help_text=_("The household is resident from this date."),
            )
        elif kind in (DocumentKind.CAF_CERTIFICATE, DocumentKind.TAX_NOTICE):
            self.fields["quotient_amount"] = forms.IntegerField(
                label=_("Family quotient read on the document (€)"), min_value=0
            )
            self.fields["quotient_from"] = forms.DateField(
                label=_("Valid from"), widget=DateInput()
            )
            self.fields["quotient_until"] = forms.DateField(
                label=_("Valid until"), widget=DateInput()
            )
        elif kind == DocumentKind.FAMILY_RECORD_BOOK:
            self.fields["member_ids"] = forms.MultipleChoiceField(
                label=_("Members listed in the family record book"),
                choices=[(member.public_id, member.full_name) for member in members],
                widget=forms.CheckboxSelectMultiple,
            )


class PickOrUploadForm(forms.Form):
    """Wherever a document is asked for: one of the person's documents from the safe, or a
    new file that goes into the safe (never the same document twice). Pass the documents
    `documents_vault.queries.documents_for_picker` returns, then call
    `documents_vault.actions.picking.attach_document` with `pick()`'s values."""

    NEW = "new"

    document = forms.ChoiceField(label=_("Document"), widget=forms.RadioSelect)
    file = _file_field(required=False, label=_("Or add a new one"))

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (
                document.public_id,
                _("%(kind)s added on %(date)s")
                % {
                    "kind": document.get_kind_display(),
                    "date": document.created_at.strftime("%d/%m/%Y"),
                },
            )
            for document in documents
        ]
        self.fields["document"].choices = [*choices, (self.NEW, _("A new document"))]
        self.fields["document"].initial = choices[0][0] if choices else self.NEW

    def clean(self):
        data = super().clean()
        if data.get("document") == self.NEW and not data.get("file"):
            self.add_error("file", _("Choose the file to add."))
        return data

    def pick(self) -> dict:
        """The keyword arguments of attach_document for what was chosen."""
        data = self.cleaned_data
        if data["document"] != self.NEW:
            return {"document_id": data["document"]}
        upload = data["file"]
        try:
            return {"file_name": upload.name or "", "content": upload.read()}
        finally:
            upload.close()
