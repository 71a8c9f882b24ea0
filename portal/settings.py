"""Sésame settings: everything that differs between the demo and production comes from the
environment (see the configuration table in README.md)."""

import os
import re
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SESAME_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

# The demo key is public (it is in this file): refuse it anywhere DEBUG is off.
DEMO_SECRET_KEY = "sesame-demo-key-never-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", DEMO_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEMO_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the public demo key while DEBUG is off: set SECRET_KEY in the environment."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Floors of ARCHITECTURE.md, top to bottom.
    "portal",
    "kiosk",
    "card",
    "services.catalog",
    "services.procedures",
    "services.civil_status",
    "services.elections",
    "services.moving",
    "services.water",
    "services.alerts",
    "services.schools",
    "services.waste_bags",
    "services.pools",
    "services.canteen",
    "services.appointments",
    "payments",
    "documents_vault",
    "identity",
    # Django and libraries (the admin with Sésame's admin site, portal/admin_site.py).
    "portal.apps.SesameAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "ninja",
]

MIDDLEWARE = [
    # First: the real client address and scheme from a trusted reverse proxy, then the request
    # id every log line of the request carries, the request's metrics and its log line.
    "portal.middleware.TrustedProxyMiddleware",
    "portal.observability.requests.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything reads a multipart body: the document safe's upload limits (its docstring).
    "documents_vault.intake.VaultUploadMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the session, user and messages (their refusals are full pages in the visitor's
    # language), before anything reads the body: the size cap first, then NUL characters.
    "portal.middleware.RequestSizeLimitMiddleware",
    "portal.middleware.RejectNulCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "identity.middleware.StaffSecondFactorMiddleware",
]

# Request bodies: one cap for every request, refused (413) before the body is read
# (portal.middleware.RequestSizeLimitMiddleware); sized for the largest legitimate upload.
SESAME_MAX_REQUEST_BYTES = int(os.environ.get("SESAME_MAX_REQUEST_BYTES", 12 * 1024 * 1024))
# A form or JSON body without its files: 2 MB is far above any (500 queued taps: about 150 kB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Files up to the photo limit stay in memory, so an identity photo never lands in the temporary
# directory; larger ones are spooled to disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.sesame",
            ],
        },
    },
]
# Every form drawn the same way (portal/forms.py, portal/templates/portal/forms/).
FORM_RENDERER = "portal.forms.FormRenderer"

if not os.environ.get("DATABASE_URL"):
    # The embedded default: one SQLite file under var/, created on first use.
    VAR_DIR.mkdir(parents=True, exist_ok=True)

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'sesame.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        # A persistent connection is checked before each request reuses it: after a restart of
        # PostgreSQL, the next request reconnects instead of failing on the dead connection.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (server + task worker) share the file: wait instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.User"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Redis down degrades to a per-process cache instead of failing requests (portal/cache.py).
    CACHES = {"default": {"BACKEND": "portal.cache.RedisWithFallbackCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts: email + password, verified email, second factor (mandatory for staff, see
# identity.middleware).
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Sign-up also asks the person's names (identity/forms.py), so that pages and mails name them.
ACCOUNT_SIGNUP_FORM_CLASS = "identity.forms.SignupNamesForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "identity.adapter.AccountAdapter"
LOGIN_REDIRECT_URL = "portal:home"
LOGIN_URL = "account_login"
# Rate limits (identity/ratelimit.py; README, "Attacks"): allauth's own for its views, per
# client address and per typed email, counted in the default cache (Redis when REDIS_URL is
# set). Failed logins are limited here per address only: per account, repeated failures lock
# the account instead (identity/actions/lockout.py).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
# The client address the per-address limits count is REMOTE_ADDR (allauth reads it, and so does
# identity.ratelimit): portal.middleware.TrustedProxyMiddleware has already put the visitor's
# address there when the request came through a proxy of SESAME_TRUSTED_PROXIES.
ALLAUTH_TRUSTED_PROXY_COUNT = 0
SESAME_LOGIN_LOCK_FAILURES = int(os.environ.get("SESAME_LOGIN_LOCK_FAILURES", "5"))
SESAME_LOGIN_FAILURE_WINDOW = int(os.environ.get("SESAME_LOGIN_FAILURE_WINDOW", 15 * 60))
SESAME_LOGIN_LOCK_SECONDS = int(os.environ.get("SESAME_LOGIN_LOCK_SECONDS", 30 * 60))
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Sésame"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG and env_bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = 60 * 60 * 8
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HTTPS only in production (docs/deployment.md): plain HTTP is redirected, browsers are told to
# come back over HTTPS only (HSTS, a year by default). The probes and the metrics are answered
# over plain HTTP too, for the monitoring on the server itself.
SECURE_SSL_REDIRECT = not DEBUG and env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", 365 * 24 * 3600))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
# The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed
# (portal.middleware.TrustedProxyMiddleware): addresses or networks, comma-separated. From any
# other peer these headers are dropped, so the client address is the connection's.
SESAME_TRUSTED_PROXIES = env_list("SESAME_TRUSTED_PROXIES", "127.0.0.1,::1")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# What the pages may use of the browser: the camera only at the card desk (scanning a phone
# pass), passkeys, payment for Stripe's card fields; nothing else.
PERMISSIONS_POLICY = {
    "accelerometer": "()",
    "autoplay": "()",
    "camera": "(self)",
    "display-capture": "()",
    "geolocation": "()",
    "gyroscope": "()",
    "magnetometer": "()",
    "microphone": "()",
    "midi": "()",
    "payment": '(self "https://js.stripe.com")',
    "publickey-credentials-create": "(self)",
    "publickey-credentials-get": "(self)",
    "usb": "()",
}

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Paris"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
    # The document safe's encrypted objects (documents_vault): no public URL, ever; see the
    # "Document safe" section below for object storage.
    "vault": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "vault", "base_url": None},
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Backups (portal/backup, docs/backup.md) ----------------------------------------------------
# `manage.py backup` writes encrypted archives to the "backups" storage: a directory (readable by
# the service's user only), or S3-compatible object storage (ideally with object lock) when
# SESAME_BACKUP_S3_BUCKET is set. The key (64 hex digits) is a secret from the environment.
SESAME_BACKUP_KEY = os.environ.get("SESAME_BACKUP_KEY", "")
SESAME_BACKUP_KEEP = int(os.environ.get("SESAME_BACKUP_KEEP", "14"))
STORAGES["backups"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {
        "location": os.environ.get("SESAME_BACKUP_DIR") or VAR_DIR / "backups",
        "base_url": None,
        "file_permissions_mode": 0o600,
        "directory_permissions_mode": 0o700,
    },
}
SESAME_BACKUP_S3_BUCKET = os.environ.get("SESAME_BACKUP_S3_BUCKET", "")
if SESAME_BACKUP_S3_BUCKET:
    STORAGES["backups"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": SESAME_BACKUP_S3_BUCKET,
            "endpoint_url": os.environ.get("SESAME_BACKUP_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("SESAME_BACKUP_S3_REGION") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Sésame <ne-pas-repondre@sesame.local>")

# Background work: Django 6's tasks API through its backport; the database backend keeps the
# embedded default free of any extra service.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Every task a worker runs holds a lease it renews (portal/task_leases.py): one not renewed for
# this long (its worker died) is run again by another worker; after SESAME_TASK_MAX_ATTEMPTS
# claims it is failed instead.
SESAME_TASK_LEASE_SECONDS = float(os.environ.get("SESAME_TASK_LEASE_SECONDS", "60"))
SESAME_TASK_MAX_ATTEMPTS = int(os.environ.get("SESAME_TASK_MAX_ATTEMPTS", "5"))

SESAME_TERRITORY_NAME = os.environ.get("SESAME_TERRITORY_NAME", "Grand Cahors")

# Notifications (identity.notifications): links in emails and SMS start with the site's address;
# SMS go through the console (development) or Brevo's transactional SMS API ("brevo").
SESAME_SITE_URL = os.environ.get("SESAME_SITE_URL", "http://127.0.0.1:8000")
SESAME_SMS_PROVIDER = os.environ.get("SESAME_SMS_PROVIDER", "console")
if SESAME_SMS_PROVIDER not in ("console", "brevo"):
    raise ImproperlyConfigured("SESAME_SMS_PROVIDER is either console or brevo.")
# The family quotient fetched from the CAF or the MSA through API Particulier
# (identity/quotient_api.py): off until the town sets its token and its SIRET.
API_PARTICULIER_URL = os.environ.get("API_PARTICULIER_URL", "https://particulier.api.gouv.fr")
API_PARTICULIER_TOKEN = os.environ.get("API_PARTICULIER_TOKEN", "")
API_PARTICULIER_SIRET = os.environ.get("API_PARTICULIER_SIRET", "")
if API_PARTICULIER_SIRET and not re.fullmatch(r"\d{14}", API_PARTICULIER_SIRET):
    raise ImproperlyConfigured("API_PARTICULIER_SIRET is the town's SIRET: 14 digits.")
BREVO_API_URL = os.environ.get("BREVO_API_URL", "https://api.brevo.com/v3")
BREVO_API_KEY = os.environ.get("BREVO_API_KEY", "")
BREVO_SMS_SENDER = os.environ.get("BREVO_SMS_SENDER", "Sesame")
if SESAME_SMS_PROVIDER == "brevo" and not BREVO_API_KEY:
    raise ImproperlyConfigured("SESAME_SMS_PROVIDER is brevo: set BREVO_API_KEY.")
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[Sésame {SESAME_TERRITORY_NAME}] "

# Cards: every card key is derived from this master key (AES-128, 32 hex digits). The demo key
# is public, like the demo SECRET_KEY, and refused the same way.
DEMO_CARD_MASTER_KEY = "5345534d452d44454d4f2d4b45592d31"  # noqa: S105
SESAME_CARD_MASTER_KEY = os.environ.get("SESAME_CARD_MASTER_KEY", DEMO_CARD_MASTER_KEY)
if not DEBUG and SESAME_CARD_MASTER_KEY == DEMO_CARD_MASTER_KEY:
    raise ImproperlyConfigured(
        "SESAME_CARD_MASTER_KEY is the public demo key while DEBUG is off: set it in the "
        "environment (32 hexadecimal digits, kept in the town's key safe)."
    )
# The address a card's NDEF URL points to; a phone tapping the card opens this page.
SESAME_CARD_URL = os.environ.get("SESAME_CARD_URL", "http://127.0.0.1:8000/c/")

# Appointments (services/appointments, docs/appointments.md); their links start with
# SESAME_SITE_URL (above). The State's passport appointment network (ANTS), off unless both
# are set: its coordination API (checks, declares and releases pre-application numbers) and
# the token it gave the town.
SESAME_ANTS_COORDINATION_URL = os.environ.get("SESAME_ANTS_COORDINATION_URL", "")
SESAME_ANTS_COORDINATION_TOKEN = os.environ.get("SESAME_ANTS_COORDINATION_TOKEN", "")
# The token the network sends in X-HUB-RDV-AUTH-TOKEN when it calls the town's endpoints
# (/api/v1/appointments/ants/…): unset, they answer 404.
SESAME_ANTS_EDITOR_TOKEN = os.environ.get("SESAME_ANTS_EDITOR_TOKEN", "")

# `make bench-taps` only: mounts its reference endpoints (portal/bench_api.py) under
# /api/v1/bench/. Never set in production.
SESAME_BENCH_ENDPOINTS = env_bool("SESAME_BENCH_ENDPOINTS")

# Logs never carry what identifies a resident beyond an id (see README, "Privacy"). One JSON
# object a line in production (LOG_FORMAT=json, the default when DEBUG is off), each with the
# request id of the request it belongs to (portal.observability).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT is plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.observability.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "portal.observability.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # gunicorn's access log would carry query strings (a search for a name): Sésame writes its
    # own line per request (portal.observability.requests), without the query.
    "loggers": {"gunicorn.access": {"handlers": [], "propagate": False}},
}

# --- Health and metrics (portal/observability) -------------------------------------------------
# /metrics answers only a request bearing this token (Authorization: Bearer …); unset, 404.
SESAME_METRICS_TOKEN = os.environ.get("SESAME_METRICS_TOKEN", "")
# /readyz answers 503 when the oldest task waiting for the worker waited longer than this.
SESAME_READY_MAX_TASK_LAG_SECONDS = int(os.environ.get("SESAME_READY_MAX_TASK_LAG_SECONDS", "300"))

# --- Payments: Stripe (payments/providers/stripe.py, docs/payments-stripe.md) -------------------
# Unset, the demo provider takes payments and the Stripe webhook answers 404. The keys are
# secrets and come only from the environment.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Where the server-side SDK sends its requests: Stripe itself unless set. Only for a local fake
# (the test suite's localstripe); anything but Stripe or a loopback address is refused, so that
# a misconfiguration never sends the secret key to another host.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "").rstrip("/")
if STRIPE_API_BASE and not (
    STRIPE_API_BASE == "https://api.stripe.com"
    or STRIPE_API_BASE.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:"))
):
    raise ImproperlyConfigured(
        "STRIPE_API_BASE may only be https://api.stripe.com or a loopback address (local fake)."
    )
if STRIPE_SECRET_KEY and not DEBUG and not (STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET):
    # Payments would be taken but never recorded as paid (only the webhook records them), or
    # the checkout page could not show the card fields.
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY is set: set STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET too."
    )
if STRIPE_PUBLISHABLE_KEY:
    # The Payment Element: Stripe.js from js.stripe.com, its iframes (card fields, 3-D Secure)
    # and its calls to api.stripe.com. Nothing of Stripe is allowed while it is not configured.
    _csp = CONTENT_SECURITY_POLICY["DIRECTIVES"]
    _csp["script-src"] = [*_csp["script-src"], "https://js.stripe.com", "https://*.js.stripe.com"]
    _csp["frame-src"] = [
        SELF,
        "https://js.stripe.com",
        "https://*.js.stripe.com",
        "https://hooks.stripe.com",
    ]
    _csp["connect-src"] = [*_csp["connect-src"], "https://api.stripe.com"]
    del _csp

# --- Document safe (documents_vault, docs/vault.md) ---------------------------------------------
# Each file version is encrypted (AES-256-GCM) with a data key of its own; data keys are wrapped
# by this master key (64 hex digits). The demo key is public and refused like the others. After
# a rotation (`manage.py rotate_vault_key`), the old keys stay readable from
# SESAME_VAULT_PREVIOUS_MASTER_KEYS (comma-separated) until every data key is re-wrapped.
DEMO_VAULT_MASTER_KEY = (  # noqa: S105 - public on purpose ("SESAME-VAULT-DEMO-KEY-not-secret")
    "534553414d452d5641554c542d44454d4f2d4b45592d6e6f742d736563726574"
)
SESAME_VAULT_MASTER_KEY = os.environ.get("SESAME_VAULT_MASTER_KEY", DEMO_VAULT_MASTER_KEY)
if not DEBUG and SESAME_VAULT_MASTER_KEY == DEMO_VAULT_MASTER_KEY:
    raise ImproperlyConfigured(
        "SESAME_VAULT_MASTER_KEY is the public demo key while DEBUG is off: set it in the "
        "environment (64 hexadecimal digits, kept in the town's key safe)."
    )
SESAME_VAULT_PREVIOUS_MASTER_KEYS = env_list("SESAME_VAULT_PREVIOUS_MASTER_KEYS")
SESAME_VAULT_MAX_UPLOAD_BYTES = int(
    os.environ.get("SESAME_VAULT_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
)
# Object storage for the safe in production (S3-compatible, through django-storages): the
# credentials come from the environment as boto3 reads them (AWS_ACCESS_KEY_ID, …).
SESAME_VAULT_S3_BUCKET = os.environ.get("SESAME_VAULT_S3_BUCKET", "")
if SESAME_VAULT_S3_BUCKET:
    STORAGES["vault"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": SESAME_VAULT_S3_BUCKET,
            "endpoint_url": os.environ.get("SESAME_VAULT_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("SESAME_VAULT_S3_REGION") or None,
            "default_acl": None,  # the bucket's own (private) policy; never public-read
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
# clamd's socket (a path, or host:port) for an antivirus scan of every upload; unset, no scan.
CLAMD_SOCKET = os.environ.get("CLAMD_SOCKET", "")
