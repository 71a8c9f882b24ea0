"""Back-office views of the agents' state and of kiosk screen pairings (read-only: heartbeats
come from the agents, pairings from the devices page, /agents/bornes/)."""

from django.contrib import admin

from identity.admin import ReadOnlyAdmin

from .models import DeviceStatus, ScreenPairing


@admin.register(DeviceStatus)
class DeviceStatusAdmin(ReadOnlyAdmin):
    list_display = [
        "reader",
        "reported_at",
        "reader_connected",
        "printer_status",
        "agent_version",
        "mode",
        "queue_length",
        "last_error",
    ]
    list_select_related = ["reader"]


@admin.register(ScreenPairing)
class ScreenPairingAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "reader", "created_by", "created_at", "paired_at", "revoked_at"]
    list_select_related = ["reader", "created_by"]
    exclude = ["code_hash"]
