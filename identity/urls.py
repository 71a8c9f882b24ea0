from django.urls import path

from .notifications import views as notifications
from .views import api_tokens, audit, corrections, household, staff

app_name = "identity"

urlpatterns = [
    path("mon-espace/bienvenue/", household.onboarding, name="onboarding"),
    path("mon-espace/foyer/", household.household, name="household"),
    path("mon-espace/foyer/membres/ajouter/", household.add_member, name="add_member"),
    path(
        "mon-espace/foyer/membres/<str:person_id>/corriger/",
        household.correct_member,
        name="correct_member",
    ),
    path(
        "mon-espace/foyer/membres/<str:person_id>/quitter/",
        household.remove_member,
        name="remove_member",
    ),
    path("mon-espace/foyer/adresse/", household.change_address, name="change_address"),
    path("mon-espace/foyer/quotient/", household.declare_quotient, name="declare_quotient"),
    path("mon-espace/foyer/quotient/caf-msa/", household.fetch_quotient, name="fetch_quotient"),
    path("mon-espace/consultations/", household.file_accesses, name="file_accesses"),
    path("mon-espace/messages/", notifications.my_messages, name="my_messages"),
    path("mon-compte/sms/", notifications.sms, name="sms"),
    path("mon-compte/sms/arret/", notifications.stop_sms, name="stop_sms"),
    path("agents/notifications/", notifications.delivery, name="notification_delivery"),
    path("agents/usagers/", staff.staff_resident_search, name="staff_search"),
    path("agents/usagers/<str:public_id>/", staff.staff_resident_file, name="staff_file"),
    path(
        "agents/usagers/<str:public_id>/personnes/<str:person_id>/identite/",
        corrections.correct_identity,
        name="correct_identity",
    ),
    path(
        "agents/usagers/<str:public_id>/personnes/<str:person_id>/representants/",
        corrections.add_guardian,
        name="add_guardian",
    ),
    path(
        "agents/usagers/<str:public_id>/personnes/<str:person_id>/tarifs-reduits/",
        corrections.record_reduced_rate,
        name="record_reduced_rate",
    ),
    path(
        "agents/usagers/<str:public_id>/adresses/<int:pk>/",
        corrections.correct_address,
        name="correct_address",
    ),
    path(
        "agents/usagers/<str:public_id>/quotients/<int:pk>/",
        corrections.correct_quotient,
        name="correct_quotient",
    ),
    path(
        "agents/usagers/<str:public_id>/representants/<int:pk>/fin/",
        corrections.end_guardianship,
        name="end_guardianship",
    ),
    path(
        "agents/usagers/<str:public_id>/tarifs-reduits/<int:pk>/fin/",
        corrections.end_reduced_rate,
        name="end_reduced_rate",
    ),
    path("agents/journal/", audit.audit_trail, name="audit_trail"),
    path("agents/journal/export/", audit.audit_trail_export, name="audit_trail_export"),
    path("agents/applications/", api_tokens.application_tokens, name="application_tokens"),
    path(
        "agents/applications/<int:pk>/renouveler/",
        api_tokens.rotate_application_token,
        name="rotate_application_token",
    ),
    path(
        "agents/applications/<int:pk>/revoquer/",
        api_tokens.revoke_application_token,
        name="revoke_application_token",
    ),
]
