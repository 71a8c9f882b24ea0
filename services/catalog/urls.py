from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("mon-espace/achats/", views.products, name="products"),
    path("mon-espace/achats/acheter/", views.buy, name="buy"),
]
