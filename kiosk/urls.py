from django.urls import path

from . import views

app_name = "kiosk"

urlpatterns = [
    # The kiosk terminal's own pages (a paired device, no login).
    path("borne/appairer/<slug:code>/", views.pair, name="pair"),
    path("borne/<slug:reader_id>/", views.screen, name="screen"),
    path("borne/<slug:reader_id>/etat/", views.screen_state, name="screen_state"),
    path("borne/<slug:reader_id>/action/", views.screen_action, name="screen_action"),
    # Staff: every reader's health, kiosk screens' pairing.
    path("agents/bornes/", views.devices, name="devices"),
    path("agents/bornes/<slug:reader_id>/appairer/", views.create_pairing, name="create_pairing"),
    path(
        "agents/bornes/<slug:reader_id>/desappairer/", views.revoke_pairings, name="revoke_pairings"
    ),
]
