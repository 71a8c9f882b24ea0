from django.apps import AppConfig, apps
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Site pages")

    def ready(self):
        from django.core.signals import got_request_exception
        from django.db.models.signals import post_save

        from card.models import Tap

        from .observability import metrics

        post_save.connect(metrics.count_tap, sender=Tap, dispatch_uid="sesame.metrics.taps")
        got_request_exception.connect(metrics.count_error, dispatch_uid="sesame.metrics.errors")


class SesameAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Sésame's admin site (portal/admin_site.py); named in
    INSTALLED_APPS in its place."""

    default = False
    default_site = "portal.admin_site.SesameAdminSite"

    def ready(self):
        super().ready()
        # Imported here: the admin site's module imports models, loaded only by now.
        from .admin_site import APP_NAMES

        for label, name in APP_NAMES.items():
            apps.get_app_config(label).verbose_name = name
