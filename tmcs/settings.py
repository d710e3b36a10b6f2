"""TMCS settings. Everything comes from the environment (12-factor, django-environ) with
safe defaults for a local machine: `make run` / `make test` need no .env at all.
See .env.example for every variable."""

import datetime
import os
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- core -------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The local default is deliberately marked insecure: `check --deploy` rejects it, so a
# production deployment must set DJANGO_SECRET_KEY (docker-compose.yml requires it).
SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-tmcs-local-development-key-not-for-production")
# Ed25519 key signing the public journal's daily checkpoints (base64 of 32 raw bytes); unset, it is
# derived from SECRET_KEY (journal/signing.py) — production sets it so the public key stays stable.
JOURNAL_SIGNING_KEY = env("TMCS_JOURNAL_SIGNING_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.humanize",
    # third party
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "pgtrigger",
    "pghistory",
    "django_celery_beat",
    "django_celery_results",
    "axes",
    # TMCS, in dependency order (an app may import only from apps above it, and tmcs)
    "tmcs",
    "directory",
    "journal",
    "resources",
    "valuation",
    "transactions",
    "finance",
    "projects",
    "greenfinance",
    "exchange",
    "brand",
]

AUTH_USER_MODEL = "directory.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tmcs.locale.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tmcs.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tmcs.audit.AuditContextMiddleware",
    "directory.middleware.ApiRequestLogMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tmcs.urls"
WSGI_APPLICATION = "tmcs.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tmcs.context_processors.navigation",
                "directory.context_processors.directory",
            ],
        },
    },
]

# --- data stores ------------------------------------------------------------------------
TMCS_PG_PORT = env.int("TMCS_PG_PORT", default=54329)
TMCS_REDIS_PORT = env.int("TMCS_REDIS_PORT", default=63799)

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default=f"postgis://tmcs:tmcs@127.0.0.1:{TMCS_PG_PORT}/tmcs",
        engine="django.contrib.gis.db.backends.postgis",
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default=f"redis://127.0.0.1:{TMCS_REDIS_PORT}/0")
# Parallel test workers (pytest-xdist gw0, gw1, …) each get their own Redis database, as
# pytest-django gives each its own PostgreSQL database: cache keys and Celery queues never mix.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER.startswith("gw") and _XDIST_WORKER[2:].isdigit():
    _base, _slash, _db = REDIS_URL.rpartition("/")
    REDIS_URL = f"{_base}/{(int(_db) if _db.isdigit() else 0) + 1 + int(_XDIST_WORKER[2:])}"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": "tmcs",
    }
}

# --- auth -------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out logins before checking the password
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "tmcs.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Lockout after repeated failed web logins (django-axes): per username and address, so that
# guessing from one place cannot lock the real user out from another.
AXES_FAILURE_LIMIT = env.int("TMCS_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("TMCS_LOGIN_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("TMCS_PROXY_COUNT", default=0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous users get nothing

# --- i18n: Chinese first ----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and media -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / ".local" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Tests and a first `manage.py` before collectstatic must not need the manifest.
WHITENOISE_MANIFEST_STRICT = False

# --- security (production values come from the environment; see docker-compose.yml) ------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", default=False) else None
)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=False)
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Debian 12 ships GDAL 3.6, which cannot block file/network access while parsing spatial
# references (gis.W001). TMCS accepts geometry only as GeoJSON/WKT parsed by GEOS with SRIDs from
# a fixed list, never GDAL data sources named by users, so the warning does not apply.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "directory.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "tmcs.api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tmcs.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("TMCS_API_ANON_RATE", default="60/minute"),
        "user": env("TMCS_API_USER_RATE", default="1200/minute"),
        "bank": env("TMCS_BANK_API_RATE", default="6000/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TMCS 两山合作社平台 API",
    "DESCRIPTION": "Registry, GEP valuation, trading and eco-finance API of the Two Mountains Cooperative. "
    "Errors are returned as {code, detail, fields}.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name across components get their own schema names.
    "ENUM_NAME_OVERRIDES": {
        "InsuranceKindEnum": "finance.models.InsuranceKind",
        "ProductCategoryEnum": "brand.models.ProductCategory",
        "FundKindEnum": "greenfinance.models.FundKind",
        "SlipStatusEnum": "transactions.models.SlipStatus",
        "IndicatorKeyEnum": "projects.models.IndicatorKey",
        "ProjectCategoryEnum": "projects.models.ProjectCategory",
        "EcoBehaviourCategoryEnum": "finance.models.EcoBehaviourCategory",
        "ExitReasonEnum": "projects.models.ExitReason",
        "RedLineKeyEnum": "projects.models.RedLineKey",
        "ContractStatusEnum": "transactions.models.ContractStatus",
        "ListingStatusEnum": "transactions.models.ListingStatus",
        "PackageStatusEnum": "transactions.models.PackageStatus",
        "ReviewStatusEnum": "transactions.models.ReviewStatus",
        "ScheduleStatusEnum": "transactions.models.ScheduleStatus",
        "InstallmentStatusEnum": "transactions.models.InstallmentStatus",
        "DemandStatusEnum": "transactions.models.DemandStatus",
        "UnitBlockStatusEnum": "transactions.models.UnitBlockStatus",
        "DepositStatusEnum": "transactions.models.DepositStatus",
        "TradeKindEnum": "transactions.models.TradeKind",
        "MovementKindEnum": "transactions.models.MovementKind",
        "AccountKindEnum": "transactions.models.AccountKind",
        "RiskRoleEnum": "finance.models.RiskRole",
        "MembershipRoleEnum": "directory.models.Role",
        "LoanKindEnum": "finance.models.LoanKind",
        "LoanPaymentFrequencyEnum": "finance.models.PaymentFrequency",
        "TradePaymentFrequencyEnum": "transactions.models.PaymentFrequency",
        "RepaymentMethodEnum": "finance.models.RepaymentMethod",
        "RightKindEnum": "resources.models.RightKind",
        "RepaymentKindEnum": "finance.models.RepaymentKind",
        "DistributionKindEnum": "transactions.models.DistributionKind",
        "UnitKindEnum": "transactions.models.UnitKind",
        "UnitTransferKindEnum": "transactions.models.UnitTransferKind",
        "ScheduleKindEnum": "transactions.models.ScheduleKind",
    },
}

FILTERS_EMPTY_CHOICE_LABEL = _("全部")

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True  # store task name, args and worker with each result
CELERY_CACHE_BACKEND = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TRACK_STARTED = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- mail and notifications --------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="TMCS 两山合作社 <noreply@tmcs.local>")

# --- personal data (see tmcs/crypto.py) ------------------------------------------------------
TMCS_FIELD_ENCRYPTION_KEYS = env.list("TMCS_FIELD_ENCRYPTION_KEYS", default=[])
TMCS_LOOKUP_HASH_KEY = env("TMCS_LOOKUP_HASH_KEY", default="")

# --- registry ---
# Overlaps smaller than this (m²) between assets of one overlap group are survey noise, not conflicts.
TMCS_OVERLAP_TOLERANCE_M2 = env.float("TMCS_OVERLAP_TOLERANCE_M2", default=1.0)
# 公示 period of a registration, in days (the guidance's default is 7; some registrations need 15).
TMCS_PUBLIC_NOTICE_DAYS = env.int("TMCS_PUBLIC_NOTICE_DAYS", default=7)
# Loan classification floors (五级分类) by days past due: 关注 from the first overdue day, 次级
# beyond 90, 可疑 beyond 270, 损失 beyond 360 (eco-finance.md §5: widely reported, [unverified]).
TMCS_CLASSIFICATION_DPD = env.list("TMCS_CLASSIFICATION_DPD", cast=int, default=[1, 91, 271, 361])
# Public address printed on certificates for their verification QR code.
TMCS_PUBLIC_BASE_URL = env("TMCS_PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# --- maps -------------------------------------------------------------------------------
# Intranet deployments have no internet tiles: leave empty for a plain background.
TMCS_MAP_TILE_URL = env("TMCS_MAP_TILE_URL", default="")

# --- demo -------------------------------------------------------------------------------
TMCS_DEMO_PASSWORD = env("TMCS_DEMO_PASSWORD", default="Lishui-2two-mountains")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
