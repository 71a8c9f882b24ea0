from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("mon-espace/", views.home, name="home"),
    path("agents/", views.staff_home, name="staff_home"),
]
