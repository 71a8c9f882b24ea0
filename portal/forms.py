"""How every form of the site is drawn: each field in a `.field` block (label, help, errors,
input), styled by portal/static/portal/sesame.css. Django's own field template keeps the
accessible wiring (aria-describedby, aria-invalid)."""

from django.forms.renderers import DjangoTemplates


class FormRenderer(DjangoTemplates):
    form_template_name = "portal/forms/form.html"
    # Django's field template, but a single checkbox sits inside its label.
    field_template_name = "portal/forms/field.html"
