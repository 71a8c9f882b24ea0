from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    path("mon-espace/bienvenue/", views.onboarding, name="onboarding"),
    path("mon-espace/foyer/", views.household, name="household"),
    path("mon-espace/foyer/membres/ajouter/", views.add_member, name="add_member"),
    path("mon-espace/foyer/adresse/", views.change_address, name="change_address"),
    path("mon-espace/foyer/quotient/", views.declare_quotient, name="declare_quotient"),
    path("mon-espace/consultations/", views.file_accesses, name="file_accesses"),
    path("agents/usagers/", views.staff_resident_search, name="staff_search"),
    path("agents/usagers/<str:public_id>/", views.staff_resident_file, name="staff_file"),
]
