"""A page that fails, for the error counter's test."""

from django.urls import include, path

from portal import urls


def fails(request):
    raise RuntimeError("a bug")


urlpatterns = [path("fails/", fails), path("", include(urls))]
