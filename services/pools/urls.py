from django.urls import path

from . import views

app_name = "pools"

urlpatterns = [
    path("mon-espace/cours-de-natation/", views.lessons, name="lessons"),
    path("mon-espace/cours-de-natation/<slug:public_id>/reserver/", views.book, name="book"),
]
