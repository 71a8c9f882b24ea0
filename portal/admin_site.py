"""The Django admin as administrators of the territory meet it: titled for Sésame and in French,
also where Django can only show an English name (a library's app, a model or a field that has no
verbose name). Those names are in the dictionaries below, so that they reach the catalogue."""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Sections of libraries' apps (set on their AppConfig by portal.apps.SesameAdminConfig, so that
# the breadcrumbs say it too).
APP_NAMES = {
    "mfa": _("Second factor"),
    "django_tasks_database": _("Background tasks"),
    "account": _("Accounts"),
}

# Models without a verbose name, by `app_label.object_name` (lower case).
MODEL_NAMES = {
    "mfa.authenticator": _("Authenticators"),
    "django_tasks_database.dbtaskresult": _("Task Results"),
}

# Columns and filters of fields without a verbose name, by their English name (lower case).
FIELD_NAMES = {
    "access point": _("access point"),
    "agent version": _("agent software"),
    "amount cents": _("amount (cents)"),
    "ants declared at": _("ANTS declared on"),
    "ants pending": _("ANTS declaration pending"),
    "args kwargs": _("arguments"),
    "arrival date": _("arrival date"),
    "at": _("date"),
    "backend name": _("task backend"),
    "booked by": _("booked by"),
    "cancel reason": _("reason for the cancellation"),
    "cancelled at": _("cancelled on"),
    "changed at": _("changed on"),
    "code": _("code"),
    "code hash": _("code (hashed)"),
    "commune": _("commune"),
    "confirmed at": _("confirmed on"),
    "content": _("content"),
    "course": _("course"),
    "created at": _("created on"),
    "created by": _("created by"),
    "currency": _("currency"),
    "data": _("data"),
    "description": _("description"),
    "document": _("document"),
    "done at": _("done on"),
    "ended at": _("ended on"),
    "ended by successor": _("replaced by"),
    "enqueued at": _("queued on"),
    "error": _("error"),
    "exception class path": _("exception"),
    "expires at": _("expires on"),
    "explanation": _("explanation"),
    "facility": _("facility"),
    "fee cents": _("fees (cents)"),
    "fetched at": _("fetched on"),
    "finished at": _("finished on"),
    "granted at": _("granted on"),
    "holder": _("holder"),
    "household": _("household"),
    "id": _("number"),
    "idempotency key": _("retry key"),
    "imported at": _("imported on"),
    "issued at": _("issued on"),
    "kind": _("kind"),
    "last activity at": _("last activity on"),
    "last error": _("last error"),
    "last seen at": _("last seen on"),
    "last used at": _("last used on"),
    "latitude": _("latitude"),
    "longitude": _("longitude"),
    "marked at": _("marked on"),
    "mode": _("mode"),
    "normalised": _("name for searching"),
    "number": _("number"),
    "order": _("order"),
    "outcome": _("outcome"),
    "paired at": _("paired on"),
    "payment": _("payment"),
    "payout": _("payout"),
    "person": _("person"),
    "places": _("places"),
    "printer status": _("printer"),
    "priority": _("priority"),
    "product": _("product"),
    "provider": _("provider"),
    "provider reference": _("provider's reference"),
    "public id": _("public identifier"),
    "published at": _("published on"),
    "published by": _("published by"),
    "purchase": _("purchase"),
    "queue length": _("taps queued"),
    "queue name": _("queue"),
    "reader": _("reader"),
    "reader connected": _("reader connected"),
    "receipt emailed at": _("receipt emailed on"),
    "recorded at": _("recorded on"),
    "recorded by": _("recorded by"),
    "reference": _("reference"),
    "refund": _("refund"),
    "regie": _("régie"),
    "release reason": _("reason for the release"),
    "released at": _("released on"),
    "reminded at": _("reminded on"),
    "reported at": _("reported on"),
    "return value": _("result"),
    "revoked at": _("revoked on"),
    "run after": _("not before"),
    "school": _("school"),
    "service": _("service"),
    "simulated terminal": _("simulated terminal"),
    "site": _("site"),
    "snapshot version": _("version of the list of cards"),
    "staff": _("staff member"),
    "started at": _("started on"),
    "status": _("status"),
    "step": _("step"),
    "street": _("street"),
    "tap": _("tap"),
    "task name": _("task"),
    "task path": _("task"),
    "terminal id": _("payment terminal"),
    "territory": _("territory"),
    "token hash": _("token (hashed)"),
    "token prefix": _("token prefix"),
    "token rotated at": _("token renewed on"),
    "traceback": _("traceback"),
    "type": _("type"),
    "user": _("account"),
    "without booking": _("without booking"),
    "year": _("year"),
}

# The task library's words (it ships no French; its names are lazy, our catalogue has them).
TASK_LIBRARY_WORDS = [
    _("Task Result"),
    pgettext_lazy("Task", "Ready"),
    pgettext_lazy("Task", "Running"),
    pgettext_lazy("Task", "Failed"),
    pgettext_lazy("Task", "Successful"),
]


def field_name(text) -> str:
    """A column's or filter's title in the page's language."""
    return str(FIELD_NAMES.get(str(text).strip().lower(), text))


class SesameAdminSite(admin.AdminSite):
    site_title = _("Sésame administration")
    index_title = _("Administration of the territory")

    @property
    def site_header(self):
        return _("Sésame %(territory)s — administration") % {
            "territory": settings.SESAME_TERRITORY_NAME
        }

    def login(self, request, extra_context=None):
        """Staff sign in through allauth's login (second factor, rate limits, the lock after
        repeated failures), never through the admin's own password-only form."""
        return secure_admin_login(super().login)(request, extra_context)

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            for model in app["models"]:
                key = f"{app['app_label']}.{model['object_name'].lower()}"
                model["name"] = str(MODEL_NAMES.get(key, model["name"]))
        return app_list
