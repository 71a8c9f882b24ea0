from django.urls import path

from . import views

app_name = "card"

urlpatterns = [
    path("cartes/photo/<str:public_id>/", views.photo, name="photo"),
]
