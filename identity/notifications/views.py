"""The account holder's pages (the messages Sésame sent them, their SMS consent) and the staff
page following the delivery per topic, which shows no message and no address."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..errors import DomainError
from ..forms import show_domain_error
from ..permissions import Capability
from ..views.decorators import capability_required
from . import actions, queries
from .forms import SmsConsentForm
from .topics import topic_label

PAGE_SIZE = 30


@login_required
def my_messages(request):
    page = Paginator(queries.messages_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    for message in page.object_list:
        message.topic_label = topic_label(message.topic)
    return render(request, "identity/notifications/my_messages.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def sms(request):
    consent = queries.sms_consent_of(request.user)
    form = SmsConsentForm(
        request.POST or None,
        initial={"mobile_number": consent.mobile_number if consent else ""},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.give_sms_consent(
                actor=request.user, mobile_number=form.cleaned_data["mobile_number"]
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Done: you will receive SMS at this number."))
            return redirect("identity:sms")
    return render(
        request,
        "identity/notifications/sms.html",
        {"form": form, "consent": consent},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def stop_sms(request):
    try:
        actions.withdraw_sms_consent(actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Done: Sésame no longer sends you SMS."))
    return redirect("identity:sms")


@capability_required(Capability.FOLLOW_NOTIFICATIONS)
def delivery(request):
    return render(
        request,
        "identity/notifications/delivery.html",
        {"topics": queries.delivery_by_topic(), "failures": queries.recent_failures()},
    )
