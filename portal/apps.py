from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Site pages")


class SesameAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Sésame's admin site (portal/admin_site.py); named in
    INSTALLED_APPS in its place."""

    default = False
    default_site = "portal.admin_site.SesameAdminSite"
