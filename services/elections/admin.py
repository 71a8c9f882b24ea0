from django.contrib import admin

from identity.admin import ActionModelAdmin

from .models import Election


@admin.register(Election)
class ElectionAdmin(ActionModelAdmin):
    """The elections ahead: their day sets the roll's registration deadline."""

    list_display = ["name", "vote_on", "registration_deadline"]
