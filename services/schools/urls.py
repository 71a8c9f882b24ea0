from django.urls import path

from . import views

app_name = "schools"

urlpatterns = [
    path("agents/ecole/", views.head_list, name="head_list"),
    path("agents/ecole/liste.csv", views.head_list_csv, name="head_list_csv"),
]
