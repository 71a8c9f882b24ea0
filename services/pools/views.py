"""Mon espace > Swimming lessons: the courses on sale with their places left and the price for
each person the resident acts for; booking holds a place and puts it in the basket."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from identity.errors import DomainError, Forbidden
from identity.permissions import person_of
from services.catalog import eligibility
from services.catalog import queries as catalog_queries
from services.catalog.tariffs import quote
from services.catalog.views import form_key, new_form_nonce, person_from_form, to_basket

from . import actions, queries
from .models import LessonCourse


@login_required
@require_GET
def lessons(request):
    resident = person_of(request.user)
    if resident is None:
        raise Http404
    people = catalog_queries.people_acted_for(request.user, resident)
    today = timezone.localdate()
    offers = []
    for offer in queries.courses_on_sale():
        prices = []
        # Open to whom on the day of the first session (age, residency): only they are offered.
        first_day = timezone.localdate(offer.sessions[0].starts_at)
        for person in people:
            if not eligibility.is_offered(offer.course.product, person, on=first_day):
                continue
            try:
                price = quote(product=offer.course.product, person=person, on=today)
                prices.append({"person": person, "price": price})
            except DomainError as error:
                prices.append({"person": person, "refusal": error.message})
        offers.append(
            {
                "offer": offer,
                "prices": prices,
                "eligibility": eligibility.describe(offer.course.product),
            }
        )
    return render(request, "pools/lessons.html", {"offers": offers, "form_nonce": new_form_nonce()})


@login_required
@require_POST
def book(request, public_id: str):
    resident = person_of(request.user)
    if resident is None:
        raise Http404
    course = get_object_or_404(
        LessonCourse.objects.select_related("product", "facility"), public_id=public_id
    )
    person = person_from_form(request, resident)
    try:
        order = actions.book_lesson(
            actor=request.user, person=person, course=course, idempotency_key=form_key(request)
        )
    except Forbidden as error:
        raise Http404 from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("pools:lessons")
    if order is None:
        messages.success(request, _("The place is booked."))
        return redirect("portal:home")
    return to_basket(request)
