from django.urls import path

from . import views

app_name = "card"

urlpatterns = [
    path("cartes/photo/<str:public_id>/", views.photo, name="photo"),
    path("agents/accueil/", views.desk_list, name="desk_list"),
    path("agents/accueil/<str:public_id>/", views.desk, name="desk"),
    path("agents/accueil/<str:public_id>/dernier/", views.desk_latest, name="desk_latest"),
    path("agents/accueil/<str:public_id>/presents/", views.desk_occupancy, name="desk_occupancy"),
    path("agents/accueil/<str:public_id>/verifier/", views.desk_check, name="desk_check"),
    path(
        "agents/accueil/<str:public_id>/entree-manuelle/",
        views.desk_manual_entry,
        name="desk_manual_entry",
    ),
    path(
        "agents/accueil/<str:public_id>/service/<slug:key>/",
        views.desk_service,
        name="desk_service",
    ),
    # Mon espace > Mes cartes
    path("mon-espace/cartes/", views.my_cards, name="my_cards"),
    path("mon-espace/cartes/demande/<str:person_id>/", views.request_card, name="request"),
    path(
        "mon-espace/cartes/pass-mobile/<str:person_id>/",
        views.issue_phone_pass,
        name="issue_phone_pass",
    ),
    path("mon-espace/cartes/<str:public_id>/pass/", views.phone_pass, name="phone_pass"),
    path(
        "mon-espace/cartes/<str:public_id>/pass/code/",
        views.phone_pass_code,
        name="phone_pass_code",
    ),
    path("mon-espace/cartes/<str:public_id>/perte/", views.suspend, name="suspend"),
    path("mon-espace/cartes/<str:public_id>/reactiver/", views.reactivate, name="reactivate"),
    path("mon-espace/cartes/<str:public_id>/remplacer/", views.replace, name="replace"),
    # The card's own web address (settings.SESAME_CARD_URL): a phone tapping the card.
    path("c/", views.tapped, name="tapped"),
    # Agents > Cartes: the town hall's card desk
    path("agents/cartes/", views.clerk_home, name="clerk_home"),
    path("agents/cartes/fiche/<str:public_id>/", views.clerk_card, name="clerk_card"),
    *(
        path(
            f"agents/cartes/fiche/<str:public_id>/{step.path}/",
            views.clerk_step,
            {"step": key},
            name=f"clerk_{key}",
        )
        for key, step in views.CLERK_STEPS.items()
    ),
    path(
        "agents/cartes/fiche/<str:public_id>/carte.pdf",
        views.clerk_card_face,
        name="clerk_card_face",
    ),
    path(
        "agents/cartes/fiche/<str:public_id>/personnalisation/",
        views.clerk_personalisation,
        name="clerk_personalisation",
    ),
]

# --- Offline gates ---
urlpatterns += [
    path("agents/hors-ligne/", views.offline_taps, name="offline_taps"),
]

# --- Attendance statistics ---
urlpatterns += [
    path("agents/frequentation/", views.attendance, name="attendance"),
]
