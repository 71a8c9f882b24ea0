from django.urls import path

from . import views

app_name = "documents_vault"

urlpatterns = [
    path("mon-espace/documents/", views.my_documents, name="list"),
    path("mon-espace/documents/ajouter/", views.add, name="add"),
    path("mon-espace/documents/informations/", views.information, name="information"),
    path("mon-espace/documents/export/", views.export, name="export"),
    path(
        "mon-espace/documents/partages/<str:share_id>/retirer/",
        views.revoke_share,
        name="revoke_share",
    ),
    path("mon-espace/documents/<str:public_id>/", views.detail, name="detail"),
    path("mon-espace/documents/<str:public_id>/fichier/", views.download, name="download"),
    path("mon-espace/documents/<str:public_id>/remplacer/", views.replace, name="replace"),
    path("mon-espace/documents/<str:public_id>/supprimer/", views.delete, name="delete"),
    path("agents/documents/", views.queue, name="queue"),
    path(
        "agents/documents/partages/<str:share_id>/fichier/", views.shared_file, name="shared_file"
    ),
    path(
        "agents/documents/fichiers/<str:public_id>/",
        views.file_with_reason,
        name="file_with_reason",
    ),
    path("agents/documents/<str:version_id>/", views.review, name="review"),
    path(
        "agents/usagers/<str:household_id>/documents/",
        views.household_documents,
        name="household",
    ),
]
