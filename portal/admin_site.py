"""The Django admin as administrators of the territory meet it: titled for Sésame, in French
(also for the apps and models of the libraries, whose names come untranslated)."""

from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Libraries' apps whose name Django shows as it is: their name in words.
APP_NAMES = {
    "mfa": _("Second factor"),
    "django_tasks_database": _("Background tasks"),
    "account": _("Accounts"),
}


class SesameAdminSite(admin.AdminSite):
    site_title = _("Sésame administration")
    index_title = _("Administration of the territory")

    @property
    def site_header(self):
        return _("Sésame %(territory)s — administration") % {
            "territory": settings.SESAME_TERRITORY_NAME
        }

    def get_app_list(self, request, app_label=None):
        """Every section and model in the page's language: a name given as plain text (a
        model without verbose_name, a library's app) is looked up in the catalogue."""
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            app["name"] = str(APP_NAMES.get(app["app_label"], gettext(str(app["name"]))))
            for model in app["models"]:
                model["name"] = gettext(str(model["name"]))
        return app_list
