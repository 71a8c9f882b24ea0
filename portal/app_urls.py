from django.urls import path

from . import views
from .models import LegalPage

app_name = "portal"

urlpatterns = [
    path("mon-espace/", views.home, name="home"),
    path("agents/", views.staff_home, name="staff_home"),
    path("mon-compte/", views.account, name="account"),
    # The footer's pages, under their French addresses.
    *(
        path(address, views.legal_page, {"kind": kind}, name=kind)
        for address, kind in [
            ("mentions-legales/", LegalPage.Kind.LEGAL_NOTICE),
            ("donnees-personnelles/", LegalPage.Kind.PRIVACY),
            ("accessibilite/", LegalPage.Kind.ACCESSIBILITY),
            ("contact/", LegalPage.Kind.CONTACT),
        ]
    ),
]
