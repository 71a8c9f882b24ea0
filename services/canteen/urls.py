from django.urls import path

from . import staff_views, views

app_name = "canteen"

urlpatterns = [
    path("mon-espace/cantine/", views.home, name="home"),
    path("mon-espace/cantine/<slug:child_id>/regimes/", views.diets, name="diets"),
    path("mon-espace/cantine/<slug:child_id>/menus/", views.menus, name="menus"),
    path("mon-espace/cantine/<slug:child_id>/<slug:service_id>/", views.month, name="month"),
    path(
        "mon-espace/cantine/<slug:child_id>/<slug:service_id>/semaines/",
        views.pattern,
        name="pattern",
    ),
    path("agents/cantine/", staff_views.kitchen_days, name="kitchen_days"),
    path("agents/cantine/<slug:service_id>/<str:day>/", staff_views.kitchen, name="kitchen"),
    path(
        "agents/cantine/<slug:service_id>/<str:day>/liste.pdf",
        staff_views.kitchen_pdf,
        name="kitchen_pdf",
    ),
]
