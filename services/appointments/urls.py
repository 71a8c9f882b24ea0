from django.urls import path

from . import staff_views, views

app_name = "appointments"

urlpatterns = [
    path("mon-espace/rendez-vous/", views.desks, name="desks"),
    path("mon-espace/rendez-vous/guichet/<slug:public_id>/", views.slots, name="slots"),
    path("mon-espace/rendez-vous/guichet/<slug:public_id>/reserver/", views.book, name="book"),
    path("mon-espace/rendez-vous/<slug:public_id>/", views.detail, name="detail"),
    path("mon-espace/rendez-vous/<slug:public_id>/rendez-vous.ics", views.ics, name="ics"),
    path("mon-espace/rendez-vous/<slug:public_id>/annuler/", views.cancel, name="cancel"),
    path("mon-espace/rendez-vous/<slug:public_id>/deplacer/", views.move, name="move"),
    path("agents/rendez-vous/", staff_views.desk_list, name="staff_desks"),
    path("agents/rendez-vous/guichet/<slug:public_id>/", staff_views.agenda, name="agenda"),
    path(
        "agents/rendez-vous/guichet/<slug:public_id>/pour-un-usager/",
        staff_views.on_behalf,
        name="on_behalf",
    ),
    path("agents/rendez-vous/guichet/<slug:public_id>/bloquer/", staff_views.block, name="block"),
    path("agents/rendez-vous/bloque/<slug:public_id>/liberer/", staff_views.free, name="free"),
    path("agents/rendez-vous/<slug:public_id>/presence/", staff_views.mark, name="mark"),
    path(
        "agents/rendez-vous/<slug:public_id>/annuler/",
        staff_views.staff_cancel,
        name="staff_cancel",
    ),
]
