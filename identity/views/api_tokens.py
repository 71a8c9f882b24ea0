"""Staff applications' bearer tokens (the library's ILS, a partner), for administrators: issue
one with its scope, renew its secret, revoke it. A secret is shown once, on the page that
follows its issue or renewal, and never again."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import queries
from ..actions import api_tokens as api_token_actions
from ..errors import DomainError
from ..forms import ApplicationTokenForm, show_domain_error
from ..models import ApiToken
from ..permissions import Capability
from .decorators import capability_required


def _secret_page(request, issued: api_token_actions.IssuedToken, *, renewed: bool):
    response = render(
        request,
        "identity/application_token_secret.html",
        {"issued": issued, "renewed": renewed},
        status=200 if renewed else 201,
    )
    response["Cache-Control"] = "no-store"  # the secret stays out of every cache
    return response


@capability_required(Capability.MANAGE_STAFF)
@require_http_methods(["GET", "POST"])
def application_tokens(request):
    form = ApplicationTokenForm(
        request.POST or None, facilities=queries.facilities_managed_by(request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = api_token_actions.issue_api_token(
                actor=request.user,
                name=data["name"],
                role=data["role"],
                facilities=list(data["facilities"]),
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            return _secret_page(request, issued, renewed=False)
    return render(
        request,
        "identity/application_tokens.html",
        {"form": form, "tokens": queries.application_tokens()},
        status=400 if form.errors else 200,
    )


def _application_token(pk: int) -> ApiToken:
    return get_object_or_404(ApiToken, pk=pk, user__is_application=True)


@capability_required(Capability.MANAGE_STAFF)
@require_POST
def rotate_application_token(request, pk: int):
    try:
        issued = api_token_actions.rotate_api_token(
            actor=request.user, token=_application_token(pk)
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("identity:application_tokens")
    return _secret_page(request, issued, renewed=True)


@capability_required(Capability.MANAGE_STAFF)
@require_POST
def revoke_application_token(request, pk: int):
    token = _application_token(pk)
    try:
        api_token_actions.revoke_api_token(actor=request.user, token=token)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The token of “%(name)s” is revoked: it no longer works.") % {"name": token.name},
        )
    return redirect("identity:application_tokens")
