from django.urls import path

from . import absence_views

app_name = "canteen"

urlpatterns = [
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
]
