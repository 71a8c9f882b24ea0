"""Django admin for the territory and staff roles only. People and households are left out on
purpose: every staff read of personal data goes through an audited action.

Every admin page of Sésame writes through an action (issue #10): `ActionModelAdmin` saves and
deletes a plain configuration row (and its inline rows) through
identity.actions.configuration, audited; a model with a use case of its own (staff roles,
tariff grids, readers, régies) overrides its save and delete to call that action. A refusal
(DomainError) rolls the save back and shows the form again, the action's words on the field
it names (`refusal_form`)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .actions.configuration import delete_configuration, save_configuration
from .actions.staff import grant_staff_role, record_admin_reading, revoke_staff_role
from .errors import DomainError
from .models import Commune, Facility, StaffRole, Street, Territory, TrustPolicy


def shown_as_code(field: str, description):
    """A column (list_display) or read-only field (readonly_fields) showing `field` as the code
    it is: the random letters of an identifier or a token are not words (set as text, "3of9…"
    would read as the English "of"). Empty shows as a dash."""

    @admin.display(description=description, ordering=field)
    def column(row) -> str:
        value = getattr(row, field)
        return format_html("<code>{}</code>", value) if value else "—"

    column.__name__ = field
    return column


public_identifier = shown_as_code("public_id", _("public identifier"))


# The refusal of the first attempt at saving, kept on the request for the second rendering.
_REFUSAL = "_sesame_admin_refusal"


class ResidentDataAdmin(admin.ModelAdmin):
    """Put first among the bases of an admin whose rows name residents (a child's diets, an
    enrolment, a booking): opening its list or one of its rows is recorded in the audit trail
    (`record_admin_reading`), the row's resident named, so that it shows in their *Who looked at
    my file*. `resident_field` is the row's person."""

    resident_field = "person"

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            record_admin_reading(actor=request.user, model=self.model)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET" and object_id:
            row = self.get_object(request, unquote(object_id))
            if row is not None:
                person = getattr(row, self.resident_field, None)
                record_admin_reading(actor=request.user, model=self.model, person=person)
        return super().change_view(request, object_id, form_url, extra_context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For what only actions write (ledgers, logs, live state): visible, never edited here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def refusal_form(form_class: type[forms.BaseForm], error: DomainError) -> type[forms.BaseForm]:
    """`form_class` that shows an action's refusal: on the field it names when the form has
    it, above the form otherwise. The one way an admin turns a DomainError into form errors."""

    class RefusedForm(form_class):
        def clean(self):
            data = super().clean()
            field = error.field if error.field in self.fields else NON_FIELD_ERRORS
            self.add_error(None, forms.ValidationError({field: error.message}))
            return data

    RefusedForm.__name__ = form_class.__name__
    return RefusedForm


class ActionModelAdmin(admin.ModelAdmin):
    """An admin whose every write goes through an audited action: plain configuration rows
    through save_configuration / delete_configuration, inline rows included. Override
    `save_model`, `save_related`, `delete_model` and `delete_queryset` to call a model's own
    action.

    Django runs a save in one transaction: an action's refusal rolls it back whole, then the
    form is shown again with the refusal on its field (changeform_view), or, from the list or
    a deletion, as a message.

    `deletable = False`: the rows are never deleted here (a régie, a legal page): no delete
    button, and a deletion that reaches the admin anyway is refused."""

    deletable = True

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.deletable and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        save_configuration(actor=request.user, instance=obj, changed_fields=form.changed_data)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)  # sorts the rows into new, changed and deleted: writes none
        delete_configuration(actor=request.user, instances=formset.deleted_objects)
        for row, changed_fields in formset.changed_objects:
            save_configuration(actor=request.user, instance=row, changed_fields=changed_fields)
        for row in formset.new_objects:
            save_configuration(actor=request.user, instance=row)

    def delete_model(self, request, obj):
        self.delete_queryset(request, [obj])

    def delete_queryset(self, request, queryset):
        if not self.deletable:
            raise PermissionDenied(f"{self.model._meta.verbose_name_plural} are never deleted")
        delete_configuration(actor=request.user, instances=queryset)

    # --- Refusals ----------------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, _REFUSAL, None)
        return form if error is None else refusal_form(form, error)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            if getattr(request, _REFUSAL, None) is not None:
                raise
            # Nothing was written (the view's transaction rolled back): validate the same
            # input again, the refusal on its field this time, so that the form is shown.
            setattr(request, _REFUSAL, error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def _refused(self, request, error: DomainError) -> HttpResponseRedirect:
        self.message_user(request, error.message, messages.ERROR)
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except DomainError as error:  # from list_editable or an admin action: rolled back
            return self._refused(request, error)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            return self._refused(request, error)


class ActionInline(admin.TabularInline):
    """An inline of an ActionModelAdmin: its rows are written by the parent's save_formset."""


class TrustPolicyInline(ActionInline):
    """How far the territory takes residents' word for what lowers a price or raises a quota
    (identity.trust): one line per criterion, `immediate` where there is none."""

    model = TrustPolicy
    extra = 0
    max_num = len(TrustPolicy.Criterion)


@admin.register(Territory)
class TerritoryAdmin(ActionModelAdmin):
    list_display = ["name", "siren"]
    inlines = [TrustPolicyInline]


@admin.register(Commune)
class CommuneAdmin(ActionModelAdmin):
    list_display = ["name", "insee_code", "postcode", "territory"]
    list_filter = ["territory"]


@admin.register(Street)
class StreetAdmin(ActionModelAdmin):
    """The territory's streets, imported from the Base Adresse Nationale (`manage.py
    import_streets`); a street missing from it is added here."""

    list_display = ["name", "commune"]
    list_filter = ["commune"]
    search_fields = ["name"]
    fields = ["commune", "name"]


@admin.register(Facility)
class FacilityAdmin(ActionModelAdmin):
    list_display = ["name", "kind", "commune"]
    list_filter = ["kind", "commune"]


@admin.register(StaffRole)
class StaffRoleAdmin(ActionModelAdmin):
    """A role is granted (grant_staff_role: where it works, by who manages that facility) and
    revoked, dated (revoke_staff_role): never edited nor deleted, the trail keeps who held
    what. A change is a revocation and a new grant."""

    list_display = ["user", "role", "facility", "granted_at", "revoked_at"]
    list_filter = ["role", "facility"]
    raw_id_fields = ["user"]
    fields = ["user", "role", "facility"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        grant = grant_staff_role(
            actor=request.user, user=obj.user, role=obj.role, facility=obj.facility
        )
        obj.pk = grant.pk

    def save_related(self, request, form, formsets, change):
        """A grant has no inline rows."""

    def delete_model(self, request, obj):
        revoke_staff_role(actor=request.user, grant=obj)

    def delete_queryset(self, request, queryset):
        for grant in queryset:
            revoke_staff_role(actor=request.user, grant=grant)

    @admin.action(description=_("Revoke (the role ends now; the trail keeps it)"))
    def revoke(self, request, queryset):
        self.delete_queryset(request, queryset.filter(revoked_at__isnull=True))
        self.message_user(request, _("Revoked."), messages.SUCCESS)
