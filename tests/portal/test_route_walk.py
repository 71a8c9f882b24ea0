"""The route walk: every URL pattern of the site and every operation of the API, requested as
each visitor it may meet, with the status each one gets written in ONE table, ROUTES below.

A route without an entry fails `test_every_route_has_an_entry`, and the walk fails on any
status that differs from its entry, listing them all. The objects a route names (a household,
a card, an order…) are the demo's (`make run`'s data), all of Camille's household: another
household's resident asks for them too, and must be refused.

To add a route: one line in ROUTES, in its app's section, and if its address names an object,
one filler in FILLERS that finds that object among Camille's. Each line is
    route: (method, "anonymous resident other pool library canteen head clerk finance admin")
with the route's name for a page (`app:name`) and "METHOD /path" for the API; the statuses are
in the order of VISITORS. A page is requested with `method` (a POST with an empty form), an API
operation with its own method (a POST with an empty JSON body): the visitors allowed in get
its validation error (200 with the form's errors, 422), the others a refusal, and nothing is
written (each request is rolled back). Set ROUTE_WALK_REPORT=path to write the statuses seen
into a file, as table lines to compare with the table."""

import fnmatch
import os
from collections.abc import Callable
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from ninja.utils import normalize_path

from card.models import Card, Reader
from documents_vault.models import Document as VaultDocument
from documents_vault.models import DocumentVersion, Share
from identity import demo
from identity.actions.api_tokens import issue_api_token
from identity.models import (
    ApiToken,
    Facility,
    FamilyQuotient,
    Guardianship,
    HouseholdAddress,
    Person,
    ReducedRateStatus,
    StaffRole,
    User,
)
from payments.models import Document as PaymentDocument
from payments.models import Order, OrderLine, Payment
from portal.api import api
from services.appointments.actions import block_slot
from services.appointments.models import Appointment, SlotBlock
from services.appointments.queries import slots_of
from services.canteen.models import AbsenceReport, Booking
from services.canteen.models import Service as CanteenService
from services.catalog.models import AccessPoint
from services.pools.models import LessonCourse
from services.procedures.models import ProcedureFile
from tests.factories import ReducedRateStatusFactory, ResidentFactory, UserFactory
from tests.portal.demo_site import ROLES, load_demo

VISITORS = [
    "anonymous",
    "resident",
    "other",
    "pool_agent",
    "librarian",
    "canteen_agent",
    "school_head",
    "clerk",
    "finance_officer",
    "admin",
]

# fmt: off
ROUTES: dict[str, tuple[str, str]] = {
    # --- portal -----------------------------------------------------------------------------------
    "landing": ("GET", "200 302 302 302 302 302 302 302 302 302"),
    # the probes: open to all; the metrics only to the bearer of their token (404 to others)
    "healthz": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "metrics": ("GET", "404 404 404 404 404 404 404 404 404 404"),
    "readyz": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "portal:accessibility": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "portal:account": ("GET", "302 200 200 200 200 200 200 200 200 200"),
    "portal:contact": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "portal:home": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "portal:legal_notice": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "portal:privacy": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "portal:staff_home": ("GET", "302 403 403 200 200 200 200 200 200 200"),
    # --- identity ---------------------------------------------------------------------------------
    "identity:add_guardian": ("GET", "302 403 403 403 403 403 403 302 403 403"),
    "identity:add_member": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "identity:application_tokens": ("GET", "302 403 403 403 403 403 403 403 403 200"),
    "identity:audit_trail": ("GET", "302 403 403 403 403 403 403 403 403 200"),
    "identity:audit_trail_export": ("GET", "302 403 403 403 403 403 403 403 403 200"),
    "identity:change_address": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "identity:correct_address": ("GET", "302 403 403 403 403 403 403 302 403 403"),
    "identity:correct_identity": ("GET", "302 403 403 403 403 403 403 302 403 403"),
    "identity:correct_member": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "identity:remove_member": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "identity:correct_quotient": ("GET", "302 403 403 403 403 403 403 302 403 403"),
    "identity:declare_quotient": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "identity:fetch_quotient": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "identity:end_guardianship": ("GET", "302 403 403 403 403 403 403 302 403 403"),
    "identity:end_reduced_rate": ("GET", "302 403 403 403 403 403 403 302 403 403"),
    "identity:file_accesses": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "identity:household": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "identity:my_messages": ("GET", "302 200 200 200 200 200 200 200 200 200"),
    "identity:notification_delivery": ("GET", "302 403 403 403 403 403 403 403 403 200"),
    "identity:sms": ("GET", "302 200 200 200 200 200 200 200 200 200"),
    "identity:stop_sms": ("POST", "302 302 302 302 302 302 302 302 302 302"),
    "identity:onboarding": ("GET", "302 302 302 200 200 200 200 200 200 200"),
    "identity:record_reduced_rate": ("GET", "302 403 403 403 403 403 403 302 403 403"),
    "identity:revoke_application_token": ("POST", "302 403 403 403 403 403 403 403 403 302"),
    "identity:rotate_application_token": ("POST", "302 403 403 403 403 403 403 403 403 200"),
    "identity:staff_file": ("GET", "302 403 403 403 403 403 403 200 403 403"),
    "identity:staff_search": ("GET", "302 403 403 403 403 403 403 200 403 403"),
    # --- card -------------------------------------------------------------------------------------
    "card:attendance": ("GET", "302 403 403 200 200 200 403 403 403 403"),
    "card:clerk_activate": ("POST", "302 403 403 403 403 403 403 200 403 403"),
    "card:clerk_card": ("GET", "302 403 403 403 403 403 403 200 403 403"),
    "card:clerk_card_face": ("GET", "302 403 403 403 403 403 403 302 403 403"),
    "card:clerk_home": ("GET", "302 403 403 403 403 403 403 200 403 403"),
    "card:clerk_personalisation": ("POST", "302 403 403 403 403 403 403 302 403 403"),
    "card:clerk_produce": ("POST", "302 403 403 403 403 403 403 200 403 403"),
    "card:clerk_reactivate": ("POST", "302 403 403 403 403 403 403 200 403 403"),
    "card:clerk_replace": ("POST", "302 403 403 403 403 403 403 302 403 403"),
    "card:clerk_review": ("POST", "302 403 403 403 403 403 403 200 403 403"),
    "card:clerk_revoke": ("POST", "302 403 403 403 403 403 403 200 403 403"),
    "card:clerk_suspend": ("POST", "302 403 403 403 403 403 403 200 403 403"),
    "card:desk": ("GET", "302 403 403 200 403 403 403 403 403 403"),
    "card:desk_check": ("POST", "302 403 403 200 403 403 403 403 403 403"),
    "card:desk_latest": ("GET", "302 403 403 204 403 403 403 403 403 403"),
    "card:desk_list": ("GET", "302 403 403 200 200 200 403 200 403 403"),
    "card:desk_manual_entry": ("POST", "302 403 403 200 403 403 403 403 403 403"),
    "card:desk_occupancy": ("GET", "302 403 403 200 403 403 403 403 403 403"),
    "card:desk_service": ("POST", "302 403 403 403 403 403 403 302 403 403"),
    "card:issue_phone_pass": ("POST", "302 302 404 302 302 302 302 302 302 302"),
    "card:my_cards": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "card:offline_taps": ("GET", "302 403 403 200 200 200 403 403 403 403"),
    "card:phone_pass": ("GET", "302 404 404 302 302 302 302 302 302 302"),
    "card:phone_pass_code": ("GET", "302 286 404 302 302 302 302 302 302 302"),
    "card:photo": ("GET", "404 404 404 404 404 404 404 404 404 404"),
    "card:reactivate": ("POST", "302 302 404 302 302 302 302 302 302 302"),
    "card:replace": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "card:request": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "card:suspend": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "card:tapped": ("GET", "400 400 400 400 400 400 400 400 400 400"),
    # --- kiosk ------------------------------------------------------------------------------------
    "kiosk:create_pairing": ("POST", "302 403 403 403 403 403 403 403 403 302"),
    "kiosk:devices": ("GET", "302 403 403 403 403 403 403 403 403 200"),
    "kiosk:pair": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "kiosk:revoke_pairings": ("POST", "302 403 403 403 403 403 403 403 403 302"),
    "kiosk:screen": ("GET", "403 403 403 403 403 403 403 403 403 403"),
    "kiosk:screen_action": ("GET", "403 403 403 403 403 403 403 403 403 403"),
    "kiosk:screen_state": ("GET", "403 403 403 403 403 403 403 403 403 403"),
    # --- services (catalogue, pools, …) -----------------------------------------------------------
    "catalog:buy": ("POST", "302 404 404 404 404 404 404 404 404 404"),
    "catalog:products": ("GET", "302 200 200 404 404 404 404 404 404 404"),
    "pools:book": ("POST", "302 404 404 404 404 404 404 404 404 404"),
    "pools:lessons": ("GET", "302 200 200 404 404 404 404 404 404 404"),
    # --- canteen --------------------------------------------------------------------------------
    "canteen:home": ("GET", "302 200 200 404 404 404 404 404 404 404"),
    "canteen:month": ("GET", "302 200 404 404 404 404 404 404 404 404"),
    "canteen:pattern": ("GET", "302 200 404 404 404 404 404 404 404 404"),
    "canteen:diets": ("GET", "302 200 404 404 404 404 404 404 404 404"),
    "canteen:menus": ("GET", "302 200 404 404 404 404 404 404 404 404"),
    "canteen:kitchen_days": ("GET", "302 403 403 403 403 200 403 403 403 403"),
    "canteen:kitchen": ("GET", "302 403 403 403 403 200 403 403 403 403"),
    "canteen:kitchen_pdf": ("GET", "302 403 403 403 403 200 403 403 403 403"),
    "canteen:service": ("GET", "302 403 403 403 403 200 403 403 403 403"),
    "canteen:serve": ("POST", "302 403 403 403 403 302 403 403 403 403"),
    "canteen:unserve": ("POST", "302 403 403 403 403 302 403 403 403 403"),
    "canteen:close": ("POST", "302 403 403 403 403 302 403 403 403 403"),
    "canteen:meals": ("GET", "302 403 403 403 403 200 403 403 403 403"),
    "canteen:meals_csv": ("GET", "302 403 403 403 403 200 403 403 403 403"),
    # --- appointments ---------------------------------------------------------------------------
    "appointments:agenda": ("GET", "302 403 403 403 403 403 403 200 403 403"),
    "appointments:block": ("POST", "302 403 403 403 403 403 403 302 403 403"),
    "appointments:book": ("POST", "302 404 404 302 302 302 302 302 302 302"),
    "appointments:cancel": ("POST", "302 302 404 302 302 302 302 302 302 302"),
    "appointments:desks": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "appointments:detail": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "appointments:free": ("POST", "302 403 403 403 403 403 403 302 403 403"),
    "appointments:ics": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "appointments:mark": ("POST", "302 403 403 403 403 403 403 302 403 403"),
    "appointments:move": ("POST", "302 302 404 302 302 302 302 302 302 302"),
    "appointments:on_behalf": ("GET", "302 403 403 403 403 403 403 200 403 403"),
    "appointments:slots": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "appointments:staff_cancel": ("POST", "302 403 403 403 403 403 403 302 403 403"),
    "appointments:staff_desks": ("GET", "302 403 403 403 403 403 403 200 403 403"),
    # --- schools (the school's head: the demo's head of École Lucie-Aubrac) ---------------------
    "schools:head_list": ("GET", "302 403 403 403 403 403 200 403 403 403"),
    "schools:head_list_csv": ("GET", "302 403 403 403 403 403 200 403 403 403"),
    # --- procedures -----------------------------------------------------------------------------
    "procedures:assign": ("POST", "302 404 404 404 404 404 404 302 404 404"),
    "procedures:attachment": ("GET", "302 200 404 404 404 404 404 404 404 404"),
    "procedures:bulk": ("POST", "302 403 403 403 403 403 403 302 403 403"),
    "procedures:catalogue": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "procedures:comment": ("POST", "302 404 404 404 404 404 404 302 404 404"),
    "procedures:counter": ("GET", "302 403 403 403 403 403 403 200 403 403"),
    "procedures:delete_draft": ("POST", "302 302 404 404 404 404 404 404 404 404"),
    "procedures:export": ("GET", "302 403 403 403 403 403 403 200 403 403"),
    "procedures:file": ("GET", "302 200 404 404 404 404 404 404 404 404"),
    "procedures:message": ("POST", "302 302 404 404 404 404 404 404 404 404"),
    "procedures:mine": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "procedures:outcome": ("GET", "302 200 404 404 404 404 404 404 404 404"),
    "procedures:queue": ("GET", "302 403 403 403 403 403 403 200 403 403"),
    "procedures:receipt": ("GET", "302 404 404 404 404 404 404 200 404 404"),
    "procedures:resident_transition": ("POST", "302 302 404 404 404 404 404 404 404 404"),
    "procedures:staff_file": ("GET", "302 404 404 404 404 404 404 200 404 404"),
    "procedures:staff_message": ("POST", "302 404 404 404 404 404 404 302 404 404"),
    "procedures:staff_transition": ("POST", "302 404 404 404 404 404 404 302 404 404"),
    "procedures:start": ("POST", "302 302 302 302 302 302 302 302 302 302"),
    "procedures:step": ("GET", "302 200 404 404 404 404 404 404 404 404"),
    "procedures:summary": ("GET", "302 200 404 404 404 404 404 404 404 404"),
    "procedures:type": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    # --- canteen: justified absences ----------------------------------------------------------
    "canteen:absences": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "canteen:report_absence": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "canteen:absence_queue": ("GET", "302 403 403 403 403 403 403 200 403 403"),
    # the clerk's empty POST is a refusal without a reason: a message, back to the queue
    "canteen:decide_absence": ("POST", "302 403 403 403 403 403 403 302 403 403"),
    # --- payments ---------------------------------------------------------------------------------
    "payments:basket": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "payments:cancel": ("POST", "302 302 404 302 302 302 302 302 302 302"),
    "payments:checkout": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "payments:demo_checkout": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "payments:document": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "payments:mine": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "payments:pay_with_wallet": ("POST", "302 302 404 302 302 302 302 302 302 302"),
    "payments:reconciliation": ("GET", "302 403 403 403 403 403 403 403 200 403"),
    "payments:remove_line": ("POST", "302 302 404 302 302 302 302 302 302 302"),
    "payments:result": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "payments:staff_desk": ("GET", "302 403 403 403 403 403 403 403 200 403"),
    "payments:staff_document": ("GET", "302 403 403 403 403 403 403 403 200 403"),
    "payments:staff_payment": ("GET", "302 403 403 403 403 403 403 403 200 403"),
    "payments:staff_payments": ("GET", "302 403 403 403 403 403 403 403 200 403"),
    "payments:stripe_webhook": ("POST", "404 404 404 404 404 404 404 404 404 404"),
    "payments:wallet": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    # --- documents_vault --------------------------------------------------------------------------
    "documents_vault:add": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "documents_vault:delete": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "documents_vault:detail": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "documents_vault:download": ("GET", "302 200 404 302 302 302 302 302 302 302"),
    "documents_vault:export": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "documents_vault:file_with_reason": ("POST", "404 404 404 404 404 404 404 302 404 404"),
    "documents_vault:household": ("GET", "404 404 404 404 404 404 404 200 404 404"),
    "documents_vault:information": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "documents_vault:list": ("GET", "302 200 200 302 302 302 302 302 302 302"),
    "documents_vault:queue": ("GET", "403 403 403 403 403 403 403 200 403 403"),
    "documents_vault:replace": ("POST", "302 400 404 302 302 302 302 302 302 302"),
    "documents_vault:review": ("GET", "403 403 403 403 403 403 403 404 403 403"),
    "documents_vault:revoke_share": ("POST", "302 302 404 302 302 302 302 302 302 302"),
    "documents_vault:shared_file": ("GET", "404 404 404 404 404 404 404 404 404 404"),
    # --- accounts (allauth), languages ------------------------------------------------------------
    "account_change_password": ("GET", "302 200 200 200 200 200 200 200 200 200"),
    "account_confirm_email": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "account_confirm_login_code": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "account_email": ("GET", "302 200 200 200 200 200 200 200 200 200"),
    "account_email_verification_sent": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "account_inactive": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "account_login": ("GET", "200 302 302 302 302 302 302 302 302 302"),
    "account_logout": ("GET", "302 200 200 200 200 200 200 200 200 200"),
    "account_reauthenticate": ("GET", "302 200 200 200 200 200 200 200 200 200"),
    "account_reset_password": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "account_reset_password_done": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "account_reset_password_from_key": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "account_reset_password_from_key_done": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "account_set_password": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "account_signup": ("GET", "200 302 302 302 302 302 302 302 302 302"),
    "api:api-root": ("GET", "404 404 404 404 404 404 404 404 404 404"),
    "api:openapi-json": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "api:openapi-view": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "mfa_activate_totp": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "mfa_add_webauthn": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "mfa_authenticate": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "mfa_deactivate_totp": ("GET", "302 404 404 302 302 302 302 302 302 302"),
    "mfa_download_recovery_codes": ("GET", "302 404 404 302 302 302 302 302 302 302"),
    "mfa_edit_webauthn": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "mfa_generate_recovery_codes": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "mfa_index": ("GET", "302 200 200 200 200 200 200 200 200 200"),
    "mfa_list_webauthn": ("GET", "302 200 200 200 200 200 200 200 200 200"),
    "mfa_login_webauthn": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "mfa_reauthenticate": ("GET", "302 302 302 200 200 200 200 200 200 200"),
    "mfa_reauthenticate_webauthn": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "mfa_remove_webauthn": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "mfa_view_recovery_codes": ("GET", "302 404 404 302 302 302 302 302 302 302"),
    "set_language": ("POST", "302 302 302 302 302 302 302 302 302 302"),
    # --- the admin: its own pages, then one line per family of its model pages (`*` stands for
    # any model), then the models that differ
    "admin:app_list": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:autocomplete": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:index": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:jsi18n": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:login": ("GET", "302 403 403 403 403 403 403 403 403 302"),
    "admin:logout": ("POST", "302 302 302 302 302 302 302 302 302 200"),
    "admin:identity_schoolclosure_change": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:password_change": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:password_change_done": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:view_on_site": ("GET", "302 302 302 302 302 302 302 302 302 404"),
    "admin:*_changelist": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:*_add": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:*_change": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:*_history": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:*_delete": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:account_emailaddress_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:appointments_appointment_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:canteen_booking_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:catalog_facilityoccupancy_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:django_tasks_database_dbtaskresult_add": (
        "GET", "302 302 302 302 302 302 302 302 302 403"
    ),
    "admin:kiosk_devicestatus_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:kiosk_kiosksession_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:kiosk_printjob_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:kiosk_screenpairing_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:mfa_authenticator_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:payments_document_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:payments_ledgertransaction_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:payments_providerpayout_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:pools_lessonbooking_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:portal_legalpage_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:waste_bags_bagdistribution_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:schools_catchmentsegment_add": ("GET", "302 302 302 302 302 302 302 302 302 403"),
    "admin:schools_catchmentsegment_import": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:catalog_facilityclosure_change": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:catalog_facilityoccupancy_change": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:django_tasks_*_change": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:kiosk_devicestatus_change": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:kiosk_kiosksession_change": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:kiosk_kiosksettings_change": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:kiosk_printjob_change": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:kiosk_screenpairing_change": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:pools_lessonbooking_change": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:waste_bags_bagdistribution_change": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:catalog_facilityclosure_history": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:catalog_facilityoccupancy_history": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:django_tasks_*_history": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:identity_schoolclosure_history": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:kiosk_devicestatus_history": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:kiosk_kiosksession_history": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:kiosk_kiosksettings_history": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:kiosk_printjob_history": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:kiosk_screenpairing_history": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:pools_lessonbooking_history": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:waste_bags_bagdistribution_history": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:appointments_desk_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:canteen_canteensite_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:canteen_diet_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:canteen_menu_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:catalog_accesspoint_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:schools_schoolplaces_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:catalog_facilityaccessrules_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:catalog_facilityclosure_delete": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:catalog_openinghours_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:elections_election_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:catalog_product_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:catalog_quotientbracket_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:identity_commune_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:identity_facility_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:identity_schoolclass_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:identity_schoolyear_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:identity_territory_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:identity_street_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:kiosk_kiosksettings_delete": ("GET", "302 302 302 302 302 302 302 302 302 302"),
    "admin:pools_lessoncourse_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    "admin:waste_bags_bagquota_delete": ("GET", "302 302 302 302 302 302 302 302 302 200"),
    # --- the API: `METHOD /path` ------------------------------------------------------------------
    "DELETE /vault/documents/{document_id}": ("DELETE", "401 204 404 404 404 404 404 404 404 404"),
    "DELETE /appointments/{appointment_id}": ("DELETE", "401 200 404 404 404 404 404 200 404 404"),
    "GET /appointments/ants/availableTimeSlots": ("GET", "404 404 404 404 404 404 404 404 404 404"),
    "GET /appointments/ants/getManagedMeetingPoints": (
        "GET", "404 404 404 404 404 404 404 404 404 404"
    ),
    "GET /appointments/ants/searchApplicationIds": (
        "GET", "404 404 404 404 404 404 404 404 404 404"
    ),
    "GET /appointments/desks": ("GET", "401 200 200 200 200 200 200 200 200 200"),
    "GET /appointments/slots": ("GET", "401 422 422 422 422 422 422 422 422 422"),
    "GET /procedures": ("GET", "401 200 200 200 200 200 200 200 200 200"),
    "GET /procedures/queue": ("GET", "401 403 403 403 403 403 403 200 403 403"),
    "GET /procedures/types": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "GET /procedures/{public_id}": ("GET", "401 200 404 404 404 404 404 200 404 404"),
    # what accepting books: Camille's open request is sent by email, so it books nothing (404)
    "GET /procedures/{public_id}/openings": ("GET", "401 404 404 404 404 404 404 404 404 404"),
    "POST /appointments": ("POST", "401 422 422 422 422 422 422 422 422 422"),
    "POST /canteen/bookings": ("POST", "401 422 422 422 422 422 422 422 422 422"),
    "POST /procedures": ("POST", "401 422 422 422 422 422 422 422 422 422"),
    "POST /procedures/{public_id}/messages": ("POST", "401 422 422 422 422 422 422 422 422 422"),
    "POST /procedures/{public_id}/steps": ("POST", "401 200 404 404 404 404 404 404 404 404"),
    "POST /procedures/{public_id}/submit": ("POST", "401 409 404 404 404 404 404 404 404 404"),
    "POST /procedures/{public_id}/transitions/{key}": (
        "POST", "401 422 404 404 404 404 404 404 404 404"
    ),
    "GET /household": ("GET", "401 200 200 404 404 404 404 404 404 404"),
    "GET /household/file-accesses": ("GET", "401 200 200 404 404 404 404 404 404 404"),
    "GET /kiosk/print-jobs": ("GET", "401 401 401 401 401 401 401 401 401 401"),
    "GET /library/members": ("GET", "401 401 401 401 401 401 401 401 401 401"),
    "GET /me": ("GET", "401 200 200 200 200 200 200 200 200 200"),
    "GET /schools/catchment": ("GET", "422 422 422 422 422 422 422 422 422 422"),
    "GET /payments/orders": ("GET", "401 200 200 200 200 200 200 200 200 200"),
    "GET /payments/orders/{order_id}": ("GET", "401 200 404 404 404 404 404 404 404 404"),
    "GET /payments/receipts": ("GET", "401 200 200 200 200 200 200 200 200 200"),
    "GET /payments/wallets": ("GET", "401 200 200 200 200 200 200 200 200 200"),
    "GET /payments/wallets/{person_id}": ("GET", "401 200 404 404 404 404 404 404 404 404"),
    "GET /readers/snapshot": ("GET", "401 401 401 401 401 401 401 401 401 401"),
    "GET /readers/snapshot-key": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "GET /territory/communes": ("GET", "200 200 200 200 200 200 200 200 200 200"),
    "GET /vault/documents": ("GET", "401 200 200 404 404 404 404 404 404 404"),
    "GET /vault/documents/{document_id}": ("GET", "401 200 404 404 404 404 404 404 404 404"),
    "GET /vault/documents/{document_id}/file": ("GET", "401 200 404 404 404 404 404 404 404 404"),
    "POST /household/address": ("POST", "401 422 422 422 422 422 422 422 422 422"),
    "POST /household/members": ("POST", "401 422 422 422 422 422 422 422 422 422"),
    "POST /household/quotients": ("POST", "401 422 422 422 422 422 422 422 422 422"),
    "POST /kiosk/events": ("POST", "401 401 401 401 401 401 401 401 401 401"),
    "POST /kiosk/heartbeat": ("POST", "401 401 401 401 401 401 401 401 401 401"),
    "POST /kiosk/print-jobs/{job_id}/done": ("POST", "401 401 401 401 401 401 401 401 401 401"),
    "POST /payments/top-ups": ("POST", "401 422 422 422 422 422 422 422 422 422"),
    "POST /taps": ("POST", "401 401 401 401 401 401 401 401 401 401"),
    "POST /taps/batch": ("POST", "401 401 401 401 401 401 401 401 401 401"),
    "POST /vault/documents": ("POST", "401 422 422 422 422 422 422 422 422 422"),
}
# fmt: on


# --- The objects the addresses name: Camille's ------------------------------------------------


class Camille:
    """Camille's household, from the demo, with what the walk's addresses need."""

    def __init__(self):
        self.person = Person.objects.select_related("household").get(
            user__email=demo.RESIDENT_EMAIL
        )
        self.household = self.person.household
        self.child = Guardianship.objects.filter(guardian=self.person).order_by("pk").first().child
        self.card = Card.objects.filter(holder__household=self.household).order_by("pk").first()

    def named_in(self, address: str) -> bool:
        """Whether an address names one of the objects of Camille's household."""
        ids = {
            self.household.public_id,
            self.person.public_id,
            self.child.public_id,
            self.card.public_id,
            *Order.objects.filter(payer__household=self.household).values_list(
                "public_id", flat=True
            ),
            *Payment.objects.filter(order__payer__household=self.household).values_list(
                "public_id", flat=True
            ),
            *VaultDocument.objects.filter(household=self.household).values_list(
                "public_id", flat=True
            ),
            *Appointment.objects.filter(person__household=self.household).values_list(
                "public_id", flat=True
            ),
            *ProcedureFile.objects.filter(household=self.household).values_list(
                "public_id", flat=True
            ),
            *Booking.objects.filter(household=self.household).values_list("public_id", flat=True),
            *AbsenceReport.objects.filter(booking__household=self.household).values_list(
                "public_id", flat=True
            ),
        }
        return any(part in ids for part in address.strip("/").replace(".", "/").split("/"))

    def first(self, queryset, what: str):
        found = queryset.order_by("pk").first()
        assert found is not None, (
            f"the demo has no {what} for the walk: add one to the demo or to the walk's setup"
        )
        return found


def _reduced_rate(c: Camille) -> ReducedRateStatus:
    found = ReducedRateStatus.objects.filter(person__household=c.household).first()
    return found or ReducedRateStatusFactory(person=c.child)


def _lunch(c: Camille) -> CanteenService:
    """The lunch of the school Camille's child is enrolled at (the canteen's demo)."""
    return c.first(
        CanteenService.objects.filter(
            kind="lunch", site__school__enrolments__child=c.child
        ).distinct(),
        "canteen lunch of Camille's child",
    )


def _lunch_today(c: Camille) -> dict:
    return {"service_id": _lunch(c).public_id, "day": timezone.localdate().isoformat()}


def _desk(c: Camille) -> dict:
    """The desk of Camille's appointment, as the desk's addresses name it."""
    return {"public_id": _appointment(c).desk.public_id}


FILLERS: dict[str, Callable[[Camille], dict]] = {
    # identity
    "identity:staff_file": lambda c: {"public_id": c.household.public_id},
    "identity:correct_identity": lambda c: {
        "public_id": c.household.public_id,
        "person_id": c.child.public_id,
    },
    "identity:add_guardian": lambda c: {
        "public_id": c.household.public_id,
        "person_id": c.child.public_id,
    },
    "identity:record_reduced_rate": lambda c: {
        "public_id": c.household.public_id,
        "person_id": c.child.public_id,
    },
    "identity:correct_address": lambda c: {
        "public_id": c.household.public_id,
        "pk": c.first(HouseholdAddress.objects.filter(household=c.household), "address").pk,
    },
    "identity:correct_quotient": lambda c: {
        "public_id": c.household.public_id,
        "pk": c.first(FamilyQuotient.objects.filter(household=c.household), "quotient").pk,
    },
    "identity:end_guardianship": lambda c: {
        "public_id": c.household.public_id,
        "pk": c.first(Guardianship.objects.filter(child=c.child), "guardianship").pk,
    },
    "identity:correct_member": lambda c: {"person_id": c.child.public_id},
    "identity:remove_member": lambda c: {"person_id": c.child.public_id},
    "identity:end_reduced_rate": lambda c: {
        "public_id": c.household.public_id,
        "pk": _reduced_rate(c).pk,
    },
    "identity:rotate_application_token": lambda c: {
        "pk": c.first(ApiToken.objects.filter(user__is_application=True), "application").pk
    },
    "identity:revoke_application_token": lambda c: {
        "pk": c.first(ApiToken.objects.filter(user__is_application=True), "application").pk
    },
    # card
    "card:photo": lambda c: {"public_id": c.card.public_id},
    "card:request": lambda c: {"person_id": c.child.public_id},
    "card:issue_phone_pass": lambda c: {"person_id": c.person.public_id},
    "card:*": lambda c: {"public_id": c.card.public_id},
    "card:desk*": lambda c: {
        "public_id": c.first(
            AccessPoint.objects.filter(facility__name__icontains="piscine"), ""
        ).public_id
    },
    "card:desk_service": lambda c: {
        "public_id": c.first(
            AccessPoint.objects.filter(facility__name__icontains="mairie"), ""
        ).public_id,
        "key": "waste_bags",
    },
    # kiosk
    "kiosk:pair": lambda c: {"code": "not-a-pairing-code"},
    "kiosk:*": lambda c: {"reader_id": c.first(Reader.objects.all(), "reader").public_id},
    # services
    "pools:book": lambda c: {"public_id": c.first(LessonCourse.objects.all(), "course").public_id},
    # canteen
    "canteen:month": lambda c: {"child_id": c.child.public_id, "service_id": _lunch(c).public_id},
    "canteen:pattern": lambda c: {
        "child_id": c.child.public_id,
        "service_id": _lunch(c).public_id,
    },
    "canteen:diets": lambda c: {"child_id": c.child.public_id},
    "canteen:menus": lambda c: {"child_id": c.child.public_id},
    "canteen:kitchen*": _lunch_today,
    "canteen:service": _lunch_today,
    "canteen:*serve": _lunch_today,
    "canteen:close": _lunch_today,
    # appointments
    "appointments:*": lambda c: {"public_id": _appointment(c).public_id},
    "appointments:slots": _desk,
    "appointments:book": _desk,
    "appointments:agenda": _desk,
    "appointments:on_behalf": _desk,
    "appointments:block": _desk,
    "appointments:free": lambda c: {"public_id": _slot_block(c).public_id},
    # procedures
    "procedures:type": lambda c: {"type_key": _procedure(c).type_key},
    "procedures:start": lambda c: {"type_key": _procedure(c).type_key},
    "procedures:*": lambda c: {"public_id": _procedure(c).public_id},
    "procedures:step": lambda c: {
        "public_id": _draft(c).public_id,
        "step_key": _draft(c).type.steps[0].key,
    },
    "procedures:summary": lambda c: {"public_id": _draft(c).public_id},
    "procedures:delete_draft": lambda c: {"public_id": _draft(c).public_id},
    "procedures:outcome": lambda c: {"public_id": _done_procedure(c).public_id},
    "procedures:attachment": lambda c: _attachment(c),
    "procedures:resident_transition": lambda c: {
        "public_id": _procedure(c).public_id,
        "key": "answer",
    },
    "procedures:staff_transition": lambda c: {
        "public_id": _procedure(c).public_id,
        "key": "complete",
    },
    # payments
    "payments:wallet": lambda c: {"public_id": c.person.public_id},
    "payments:remove_line": lambda c: {
        "public_id": c.first(
            OrderLine.objects.filter(order__payer=c.person), "order line"
        ).public_id
    },
    "canteen:report_absence": lambda c: {"public_id": _canteen_booking(c).public_id},
    "canteen:decide_absence": lambda c: {"public_id": _absence_report(c).public_id},
    "payments:checkout": lambda c: {"public_id": _order(c).public_id},
    "payments:cancel": lambda c: {"public_id": _order(c).public_id},
    "payments:pay_with_wallet": lambda c: {"public_id": _order(c).public_id},
    "payments:result": lambda c: {"public_id": _payment(c).public_id},
    "payments:demo_checkout": lambda c: {"public_id": _payment(c).public_id},
    "payments:staff_payment": lambda c: {"public_id": _payment(c).public_id},
    "payments:document": lambda c: {"public_id": _payment_document(c).public_id},
    "payments:staff_document": lambda c: {"public_id": _payment_document(c).public_id},
    # documents_vault
    "documents_vault:revoke_share": lambda c: {"share_id": _share(c).public_id},
    "documents_vault:shared_file": lambda c: {"share_id": _share(c).public_id},
    "documents_vault:review": lambda c: {
        "version_id": c.first(
            DocumentVersion.objects.filter(document__household=c.household), "document version"
        ).public_id
    },
    "documents_vault:household": lambda c: {"household_id": c.household.public_id},
    "documents_vault:*": lambda c: {"public_id": _vault_document(c).public_id},
    # allauth
    "account_confirm_email": lambda c: {"key": "not-a-key"},
    "account_reset_password_from_key": lambda c: {"uidb36": "1", "key": "not-a-key"},
    "mfa_*_webauthn": lambda c: {"pk": 1},
    # the admin
    "admin:app_list": lambda c: {"app_label": "identity"},
    "admin:view_on_site": lambda c: {
        "content_type_id": ContentType.objects.get_for_model(Person).pk,
        "object_id": c.person.pk,
    },
    # the API
    "* /payments/wallets/{person_id}": lambda c: {"person_id": c.person.public_id},
    "* /payments/orders/{order_id}": lambda c: {"order_id": _order(c).public_id},
    "* /appointments/{appointment_id}": lambda c: {"appointment_id": _appointment(c).public_id},
    "* /procedures/{public_id}*": lambda c: {"public_id": _procedure(c).public_id, "key": "answer"},
    "* /kiosk/print-jobs/{job_id}/done": lambda c: {"job_id": "not-a-job"},
    "* /vault/documents/{document_id}*": lambda c: {"document_id": _vault_document(c).public_id},
}


def _order(c: Camille) -> Order:
    return c.first(Order.objects.filter(payer=c.person), "order")


def _payment(c: Camille) -> Payment:
    return c.first(Payment.objects.filter(order__payer=c.person), "payment")


def _payment_document(c: Camille) -> PaymentDocument:
    return c.first(PaymentDocument.objects.filter(order__payer=c.person), "receipt")


def _vault_document(c: Camille) -> VaultDocument:
    return c.first(VaultDocument.objects.filter(household=c.household), "document")


def _appointment(c: Camille) -> Appointment:
    return c.first(Appointment.objects.filter(person=c.person), "appointment")


def _slot_block(c: Camille) -> SlotBlock:
    """A slot of Camille's desk that its agent took out of booking (the demo has none)."""
    found = SlotBlock.objects.order_by("pk").first()
    if found is not None:
        return found
    desk = _appointment(c).desk
    tomorrow = timezone.localdate() + timedelta(days=1)
    free = [slot for slot in slots_of(desk, tomorrow, tomorrow + timedelta(days=14)) if slot.left]
    assert free, "the demo's civil status desk has no free slot in the next two weeks"
    clerk = User.objects.get(email=ROLES["clerk"])
    return block_slot(actor=clerk, desk=desk, starts_at=free[0].starts_at)


def _procedure(c: Camille) -> ProcedureFile:
    """Camille's civil status request waiting for her answer."""
    return c.first(
        ProcedureFile.objects.filter(applicant=c.person, is_open=True).exclude(state="draft"),
        "procedure file",
    )


def _done_procedure(c: Camille) -> ProcedureFile:
    """Camille's civil status request done: its outcome is a PDF."""
    done = ProcedureFile.objects.filter(applicant=c.person, state="done")
    return c.first(done.filter(type_key="civil_status_certificate"), "procedure file done")


def _attachment(c: Camille) -> dict:
    """A document joined to the timeline of one of Camille's files (made online)."""
    files = ProcedureFile.objects.filter(applicant=c.person, channel="web").exclude(state="draft")
    for file in files:
        for documents in file.events.filter(internal=False).values_list("documents", flat=True):
            if documents:
                return {"public_id": file.public_id, "document_id": documents[0]}
    c.first(ProcedureFile.objects.none(), "procedure file with a joined document")
    return {}


def _draft(c: Camille) -> ProcedureFile:
    return c.first(ProcedureFile.objects.filter(applicant=c.person, state="draft"), "draft")


def _canteen_booking(c: Camille) -> Booking:
    """A booked day of Camille's child (the canteen's demo books some)."""
    return c.first(Booking.objects.filter(child=c.child), "canteen booking of Camille's child")


def _absence_report(c: Camille) -> AbsenceReport:
    found = AbsenceReport.objects.filter(booking__household=c.household).order_by("pk").first()
    return found or AbsenceReport.objects.create(
        booking=_canteen_booking(c), document=_vault_document(c), reported_by=c.person.user
    )


def _share(c: Camille) -> Share:
    return c.first(Share.objects.filter(document__household=c.household), "share")


# --- The routes ---------------------------------------------------------------------------------


def _kwarg_names(pattern) -> set[str]:
    return set(getattr(pattern, "converters", None) or pattern.regex.groupindex)


def _page_routes() -> dict[str, set[str]]:
    """Every named URL pattern, `namespace:name`, with the names of its address's arguments;
    but the API's operations (walked through its routers) and the admin's per-model pages
    (walked per model below)."""
    found: dict[str, set[str]] = {}
    per_model = set(_admin_routes())

    def walk(resolver: URLResolver, namespace: str | None, kwargs: set[str]):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or None
                walk(
                    pattern,
                    ":".join(filter(None, [namespace, inner])) or None,
                    kwargs | _kwarg_names(pattern.pattern),
                )
                continue
            name = ":".join(filter(None, [namespace, pattern.name]))
            if not pattern.name or name in per_model:
                continue
            if namespace == "api" and pattern.callback.__module__ == "ninja.operation":
                continue
            found.setdefault(name, kwargs | _kwarg_names(pattern.pattern))

    walk(get_resolver(), None, set())
    return found


def _admin_routes() -> list[str]:
    """For each model of the admin, its pages: `admin:app_model_page` (the table holds them by
    family, `admin:*_changelist`, with a line of its own where a model differs)."""
    names = []
    for model in admin.site._registry:
        opts = model._meta
        names += [
            f"admin:{opts.app_label}_{opts.model_name}_{page}"
            for page in ("changelist", "add", "change", "history", "delete")
        ]
    return names


def _api_routes() -> dict[str, str]:
    """Every API operation, `METHOD /path` (the path in the API's own form, under /api/v1)."""
    found = {}
    for prefix, router in api._routers:
        for path in router.path_operations:
            for operation in router.path_operations[path].operations:
                for method in operation.methods:
                    found[f"{method} {normalize_path('/'.join([prefix, path]))}"] = path
    return found


def all_routes() -> list[str]:
    return sorted(_page_routes()) + sorted(_admin_routes()) + sorted(_api_routes())


def entry(route: str):
    """The table's line for a route: its own, or its family's (`*` in the table's key)."""
    if route in ROUTES:
        return ROUTES[route]
    families = [key for key in ROUTES if "*" in key and fnmatch.fnmatchcase(route, key)]
    # The most precise family wins (`admin:pools_*_change` over `admin:*_change`).
    return ROUTES[max(families, key=len)] if families else None


def filler(route: str):
    if route in FILLERS:
        return FILLERS[route]
    matches = [key for key in FILLERS if "*" in key and fnmatch.fnmatchcase(route, key)]
    # The most precise family wins (`card:desk*` over `card:*`).
    return FILLERS[max(matches, key=len)] if matches else None


def test_every_route_has_an_entry():
    missing = [route for route in all_routes() if entry(route) is None]
    assert not missing, (
        "These routes have no line in ROUTES (tests/portal/test_route_walk.py): add one per "
        "route in its app's section, with the status each visitor gets, "
        '`"app:name": ("GET", "302 200 404 403 403 403 403 403 403")` '
        f"(visitors in this order: {' '.join(VISITORS)}):\n  " + "\n  ".join(missing)
    )


def test_every_line_names_a_route():
    routes = all_routes()
    stale = [key for key in ROUTES if not any(fnmatch.fnmatchcase(r, key) for r in routes)]
    assert not stale, "ROUTES has lines for routes that no longer exist: " + ", ".join(stale)
    for key, (method, statuses) in ROUTES.items():
        assert method in {"GET", "POST", "PUT", "PATCH", "DELETE"}, key
        assert len(statuses.split()) == len(VISITORS), f"{key}: one status per visitor"


# --- The walk -------------------------------------------------------------------------------------


def _address(route: str, camille: Camille, pages: dict[str, set[str]]) -> str:
    fill = filler(route)
    kwargs = fill(camille) if fill else {}
    if route in pages:  # a family's filler may name more than this address takes
        kwargs = {name: value for name, value in kwargs.items() if name in pages[route]}
    if route.split(" ", 1)[0] in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
        path = route.split(" ", 1)[1]
        for name, value in kwargs.items():
            path = path.replace("{" + name + "}", str(value))
        return "/api/v1" + path
    model = _admin_model(route)
    if model is not None and route.rsplit("_", 1)[1] in {"change", "history", "delete"}:
        instance = model._default_manager.order_by("pk").first()
        kwargs = {"object_id": instance.pk if instance else 0}
    return reverse(route, kwargs=kwargs)


def _admin_model(route: str):
    for model in admin.site._registry:
        opts = model._meta
        if route.rsplit("_", 1)[0] == f"admin:{opts.app_label}_{opts.model_name}":
            return model
    return None


def _request(client, method: str, address: str, *, api_route: bool):
    with transaction.atomic():
        if method == "GET":
            response = client.get(address)
        elif api_route:
            response = client.generic(method, address, "{}", content_type="application/json")
        else:
            response = client.post(address, {})
        transaction.set_rollback(True)
    return response.status_code


@pytest.mark.django_db
def test_each_visitor_gets_the_status_of_the_table(django_user_model):
    accounts = load_demo()
    assert accounts
    camille = Camille()
    other = ResidentFactory(user=UserFactory(email="voisin@example.org"))
    users = {
        "anonymous": None,
        "resident": camille.person.user,
        "other": other.user,
        **{
            visitor: django_user_model.objects.get(email=email)
            for visitor, email in ROLES.items()
            if visitor not in {"resident"}
        },
    }
    assert set(users) == set(VISITORS)
    # The demo has no application token: the library's software gets one.
    issue_api_token(
        actor=users["admin"],
        name="Logiciel de la médiathèque",
        role=StaffRole.Role.LIBRARIAN,
        facilities=[Facility.objects.get(staff_roles__user=users["librarian"])],
    )
    seen: dict[str, tuple[str, list[str]]] = {}
    browsers, sessions = {}, {}
    for visitor in VISITORS:
        browsers[visitor] = Client()
        if users[visitor] is not None:
            browsers[visitor].force_login(users[visitor])
        sessions[visitor] = SimpleCookie(browsers[visitor].cookies)
    wrong = []
    report = os.environ.get("ROUTE_WALK_REPORT")
    pages = _page_routes()
    for route in all_routes():
        line = entry(route)
        if line is None and not report:
            continue  # test_every_route_has_an_entry says so
        line = line or ("GET", "")
        is_api = route.split(" ", 1)[0] in {"GET", "POST", "PUT", "PATCH", "DELETE"}
        method = route.split(" ", 1)[0] if is_api else line[0]
        address = _address(route, camille, pages)
        statuses = []
        for visitor in VISITORS:
            browser = browsers[visitor]
            # Each visitor comes back with its own session (a logout was rolled back with the
            # rest, but its answer cleared the cookie).
            browser.cookies.clear()
            browser.cookies.update(sessions[visitor])
            statuses.append(str(_request(browser, method, address, api_route=is_api)))
        seen[route] = (method, statuses)
        if statuses != line[1].split():
            wrong.append(f"{route} ({method} {address}): table {line[1]}, got {' '.join(statuses)}")
        if camille.named_in(address):
            other = int(statuses[VISITORS.index("other")])
            if other < 400:
                wrong.append(f"{route}: another household's resident got {other} on Camille's")
    if report:
        with open(report, "w") as lines:
            for route, (method, statuses) in seen.items():
                lines.write(f'    "{route}": ("{method}", "{" ".join(statuses)}"),\n')
    assert not wrong, "Statuses differ from ROUTES:\n  " + "\n  ".join(wrong)
