from django.urls import path

from .views import resident, staff

app_name = "procedures"

urlpatterns = [
    path("demarches/", resident.catalogue, name="catalogue"),
    path("demarches/<slug:type_key>/", resident.type_page, name="type"),
    path("demarches/<slug:type_key>/commencer/", resident.start, name="start"),
    path("mon-espace/demarches/", resident.mine, name="mine"),
    path("mon-espace/demarches/<str:public_id>/", resident.file_page, name="file"),
    path(
        "mon-espace/demarches/<str:public_id>/etape/<slug:step_key>/",
        resident.step,
        name="step",
    ),
    path("mon-espace/demarches/<str:public_id>/recapitulatif/", resident.summary, name="summary"),
    path(
        "mon-espace/demarches/<str:public_id>/supprimer/",
        resident.delete_draft,
        name="delete_draft",
    ),
    path("mon-espace/demarches/<str:public_id>/message/", resident.message, name="message"),
    path(
        "mon-espace/demarches/<str:public_id>/etat/<slug:key>/",
        resident.resident_transition,
        name="resident_transition",
    ),
    path("mon-espace/demarches/<str:public_id>/resultat.pdf", resident.outcome, name="outcome"),
    path(
        "mon-espace/demarches/<str:public_id>/documents/<str:document_id>/",
        resident.attachment,
        name="attachment",
    ),
    path("agents/demarches/", staff.queue, name="queue"),
    path("agents/demarches/lot/", staff.bulk, name="bulk"),
    path("agents/demarches/export.csv", staff.export, name="export"),
    path("agents/demarches/guichet/", staff.counter_page, name="counter"),
    path("agents/demarches/<str:public_id>/", staff.staff_file, name="staff_file"),
    path(
        "agents/demarches/<str:public_id>/etat/<slug:key>/",
        staff.staff_transition,
        name="staff_transition",
    ),
    path("agents/demarches/<str:public_id>/attribuer/", staff.assign, name="assign"),
    path("agents/demarches/<str:public_id>/commentaire/", staff.comment, name="comment"),
    path("agents/demarches/<str:public_id>/message/", staff.staff_message, name="staff_message"),
    path("agents/demarches/<str:public_id>/recepisse.pdf", staff.receipt, name="receipt"),
]
