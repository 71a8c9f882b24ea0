"""The answer to an error no view handled (Django's handler500, set in portal/urls.py).

The database out of reach (PostgreSQL restarting, failing over) makes any query fail with an
OperationalError, in a view or in a middleware reading the session. That is no bug of the
application: the answer is a 503 that says to try again (Retry-After), JSON under /api/ (code
`service_unavailable`) so that readers and kiosks retry with the same ids. Each write runs in its
transaction, so a request cut short wrote nothing; the next request opens a fresh connection
(CONN_HEALTH_CHECKS), with no restart of the application. Anything else is Django's 500 page."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

RETRY_AFTER_SECONDS = 5


def server_error(request):
    error = sys.exc_info()[1]  # Django calls this while handling the exception
    if not isinstance(error, OperationalError | InterfaceError):
        return defaults.server_error(request)
    if request.path.startswith("/api/"):
        body = {
            "code": "service_unavailable",
            "message": _("The service is briefly unavailable: try again in a moment."),
            "field": None,
        }
        response = JsonResponse(body, status=503)
    else:
        # Without the request's context: nothing in it may need the database.
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
