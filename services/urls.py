"""The pages of the catalogue and of every municipal service that has some (a `urls` module in
its package, with its own app_name), included by portal's root URLs in one line."""

from importlib.util import find_spec

from django.apps import apps
from django.urls import include, path

urlpatterns = [path("", include("services.catalog.urls"))]

for config in apps.get_app_configs():
    name = config.name
    if name.startswith("services.") and name != "services.catalog" and find_spec(f"{name}.urls"):
        urlpatterns.append(path("", include(f"{name}.urls")))
