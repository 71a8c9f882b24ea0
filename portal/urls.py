from django.contrib import admin
from django.urls import include, path

from . import views
from .api import api

# allauth answers its rate limits with this (a French page, Retry-After).
handler429 = "identity.ratelimit.allauth_429"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("", include("portal.app_urls")),
    path("", include("identity.urls")),
    path("", include("card.urls")),
    path("", include("kiosk.urls")),
    path("", include("services.urls")),
    path("", include("payments.urls")),
    path("", include("documents_vault.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

# A database out of reach is a 503 asking to retry, anything else the 500 page.
handler500 = "portal.server_errors.server_error"
