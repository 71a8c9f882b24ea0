from django.urls import path

from .views import attendance, clerk, desk, my_cards, offline, photo, tapped

app_name = "card"

urlpatterns = [
    path("cartes/photo/<str:public_id>/", photo.photo, name="photo"),
    path("agents/accueil/", desk.desk_list, name="desk_list"),
    path("agents/accueil/<str:public_id>/", desk.desk, name="desk"),
    path("agents/accueil/<str:public_id>/dernier/", desk.desk_latest, name="desk_latest"),
    path("agents/accueil/<str:public_id>/presents/", desk.desk_occupancy, name="desk_occupancy"),
    path("agents/accueil/<str:public_id>/verifier/", desk.desk_check, name="desk_check"),
    path(
        "agents/accueil/<str:public_id>/entree-manuelle/",
        desk.desk_manual_entry,
        name="desk_manual_entry",
    ),
    path(
        "agents/accueil/<str:public_id>/service/<slug:key>/",
        desk.desk_service,
        name="desk_service",
    ),
    # Mon espace > Mes cartes
    path("mon-espace/cartes/", my_cards.my_cards, name="my_cards"),
    path("mon-espace/cartes/demande/<str:person_id>/", my_cards.request_card, name="request"),
    path(
        "mon-espace/cartes/pass-mobile/<str:person_id>/",
        my_cards.issue_phone_pass,
        name="issue_phone_pass",
    ),
    path("mon-espace/cartes/<str:public_id>/pass/", my_cards.phone_pass, name="phone_pass"),
    path(
        "mon-espace/cartes/<str:public_id>/pass/code/",
        my_cards.phone_pass_code,
        name="phone_pass_code",
    ),
    path("mon-espace/cartes/<str:public_id>/perte/", my_cards.suspend, name="suspend"),
    path("mon-espace/cartes/<str:public_id>/reactiver/", my_cards.reactivate, name="reactivate"),
    path("mon-espace/cartes/<str:public_id>/remplacer/", my_cards.replace, name="replace"),
    # The card's own web address (settings.SESAME_CARD_URL): a phone tapping the card.
    path("c/", tapped.tapped, name="tapped"),
    # Agents > Cartes: the town hall's card desk
    path("agents/cartes/", clerk.clerk_home, name="clerk_home"),
    path("agents/cartes/fiche/<str:public_id>/", clerk.clerk_card, name="clerk_card"),
    *(
        path(
            f"agents/cartes/fiche/<str:public_id>/{step.path}/",
            clerk.clerk_step,
            {"step": key},
            name=f"clerk_{key}",
        )
        for key, step in clerk.CLERK_STEPS.items()
    ),
    path(
        "agents/cartes/fiche/<str:public_id>/carte.pdf",
        clerk.clerk_card_face,
        name="clerk_card_face",
    ),
    path(
        "agents/cartes/fiche/<str:public_id>/personnalisation/",
        clerk.clerk_personalisation,
        name="clerk_personalisation",
    ),
]

# --- Offline gates ---
urlpatterns += [
    path("agents/hors-ligne/", offline.offline_taps, name="offline_taps"),
]

# --- Attendance statistics ---
urlpatterns += [
    path("agents/frequentation/", attendance.attendance, name="attendance"),
]
