from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _


class LanguageMiddleware:
    """French unless the visitor chose English with the switch.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: a town's
    portal speaks French first, and the switch on every page is the way to change it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response


class RejectNulCharactersMiddleware:
    """A NUL character never reaches a view: an address containing one names nothing (404),
    a query or form field containing one is refused with a 400 naming the field.

    No address, id or text of Sésame contains one; PostgreSQL refuses them in text, so one
    reaching a query would be a 500. Checking here once protects every page and endpoint.
    Uploaded files (binary) and JSON bodies are left to the API's schemas, which name the
    field themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            return self._refuse(request, status=404, field="path", message=_("Page not found."))
        field = self._field_with_nul(request)
        if field is not None:
            message = _("The field “%(field)s” contains a forbidden character.") % {"field": field}
            return self._refuse(request, status=400, field=field, message=message)
        return self.get_response(request)

    @staticmethod
    def _refuse(request, *, status: int, field: str, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            code = "not_found" if status == 404 else "invalid_characters"
            body = {"code": code, "message": message, "field": field}
            return JsonResponse(body, status=status)
        return render(request, f"{status}.html", {"message": message}, status=status)

    @staticmethod
    def _field_with_nul(request) -> str | None:
        fields = [request.GET]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            fields.append(request.POST)
        for data in fields:
            for name, values in data.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    return name.replace("\x00", "")
        return None
