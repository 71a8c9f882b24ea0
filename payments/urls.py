from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("mon-espace/paiements/", views.my_payments, name="mine"),
    path("mon-espace/paiements/porte-monnaie/<slug:public_id>/", views.wallet, name="wallet"),
    path("mon-espace/panier/", views.basket, name="basket"),
    path("mon-espace/panier/retirer/<slug:public_id>/", views.remove_line, name="remove_line"),
    path("mon-espace/paiements/commande/<slug:public_id>/", views.checkout, name="checkout"),
    path("mon-espace/paiements/commande/<slug:public_id>/annuler/", views.cancel, name="cancel"),
    path(
        "mon-espace/paiements/commande/<slug:public_id>/porte-monnaie/",
        views.pay_with_wallet,
        name="pay_with_wallet",
    ),
    path("mon-espace/paiements/paiement/<slug:public_id>/", views.result, name="result"),
    path("mon-espace/paiements/document/<slug:public_id>.pdf", views.document, name="document"),
    path("paiement/demo/<slug:public_id>/", views.demo_checkout, name="demo_checkout"),
    path("payments/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("agents/paiements/", views.staff_payments, name="staff_payments"),
    path("agents/paiements/guichet/", views.staff_desk, name="staff_desk"),
    path("agents/paiements/rapprochement/", views.reconciliation, name="reconciliation"),
    path(
        "agents/paiements/document/<slug:public_id>.pdf",
        views.staff_document,
        name="staff_document",
    ),
    path("agents/paiements/<slug:public_id>/", views.staff_payment, name="staff_payment"),
]
