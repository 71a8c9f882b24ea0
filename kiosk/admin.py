"""Back-office views of the agents' state, kiosk screen pairings, sessions and print jobs
(read-only: heartbeats come from the agents, pairings from the devices page, /agents/bornes/),
and each kiosk's settings (its card terminal), which administrators edit here."""

from django.contrib import admin

from identity.admin import ActionModelAdmin, ReadOnlyAdmin, ResidentDataAdmin, public_identifier

from .models import DeviceStatus, KioskSession, KioskSettings, PrintJob, ScreenPairing


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
    list_display = [
        public_identifier,
        "reader",
        "created_by",
        "created_at",
        "paired_at",
        "revoked_at",
    ]
    list_select_related = ["reader", "created_by"]
    exclude = ["code_hash"]


@admin.register(KioskSettings)
class KioskSettingsAdmin(ActionModelAdmin):
    list_display = ["reader", "payment_terminal_id"]
    list_select_related = ["reader"]
    raw_id_fields = ["reader"]


@admin.register(KioskSession)
class KioskSessionAdmin(ResidentDataAdmin, ReadOnlyAdmin):
    resident_field = "holder"
    list_display = [public_identifier, "reader", "step", "purchase", "amount_cents", "started_at"]
    list_select_related = ["reader"]
    exclude = ["holder", "tap"]


@admin.register(PrintJob)
class PrintJobAdmin(ReadOnlyAdmin):
    list_display = [public_identifier, "reader", "document", "status", "created_at", "done_at"]
    list_select_related = ["reader", "document"]
