from django.urls import path

from . import absence_views, staff_views, views

app_name = "canteen"

urlpatterns = [
    # Justified absences first: "absences" would otherwise be taken for a child's id below.
    path("mon-espace/cantine/absences/", absence_views.my_absences, name="absences"),
    path(
        "mon-espace/cantine/absences/<slug:public_id>/",
        absence_views.report_absence,
        name="report_absence",
    ),
    path("agents/cantine/absences/", absence_views.absence_queue, name="absence_queue"),
    path(
        "agents/cantine/absences/<slug:public_id>/decision/",
        absence_views.decide_absence,
        name="decide_absence",
    ),
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
    # The month's counts first: "frequentation" would otherwise be taken for a service's id.
    path("agents/cantine/frequentation/", staff_views.meals, name="meals"),
    path("agents/cantine/frequentation.csv", staff_views.meals_csv, name="meals_csv"),
    path("agents/cantine/<slug:service_id>/<str:day>/", staff_views.kitchen, name="kitchen"),
    path(
        "agents/cantine/<slug:service_id>/<str:day>/liste.pdf",
        staff_views.kitchen_pdf,
        name="kitchen_pdf",
    ),
    path(
        "agents/cantine/<slug:service_id>/<str:day>/service/",
        staff_views.service_page,
        name="service",
    ),
    path(
        "agents/cantine/<slug:service_id>/<str:day>/service/servir/",
        staff_views.serve,
        name="serve",
    ),
    path(
        "agents/cantine/<slug:service_id>/<str:day>/service/annuler/",
        staff_views.unserve,
        name="unserve",
    ),
    path(
        "agents/cantine/<slug:service_id>/<str:day>/service/clore/",
        staff_views.close,
        name="close",
    ),
]
