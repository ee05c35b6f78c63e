"""Settings shared by every environment; read from the environment with django-environ."""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Third party
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Domain, in dependency order (DESIGN §3)
    "core",
    "accounts",
    "customers",
    "compliance",
    "credit",
    "deals",
    "collection",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",
    "accounts.middleware.OTPRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # django-axes must come last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# SQLite is the embedded default for a first run; PostgreSQL whenever DATABASE_URL is set.


def without_jit(db: dict) -> dict:
    """Turn PostgreSQL's JIT off: it compiled the dashboard's aggregates for longer than they
    ran (470 ms of 960 ms measured at 100k deals); this application's queries are short."""
    if "postgresql" in db["ENGINE"]:
        db.setdefault("OPTIONS", {})["options"] = "-c jit=off"
    return db


DATABASES = {
    "default": without_jit(env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first so a locked-out user is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "accounts.backends.RoleAwareModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Two-factor (TOTP) for approvers and admins; on in production, off in dev.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=False)
OTP_REQUIRED_ROLES = ("approver", "admin")
OTP_TOTP_ISSUER = "ファクタリング基幹"

# Compliance: every customer with live business is re-screened at least this often, and
# screening scores at or above the threshold open a hit for review.
SCREENING_INTERVAL_DAYS = env.int("SCREENING_INTERVAL_DAYS", default=365)
SCREENING_THRESHOLD = 0.85
KYC_EXPIRY_WARNING_DAYS = 30
CONNECTION_EXPIRY_WARNING_DAYS = 30

# Credit: a payment delay beyond this many days suspends the party's limits; reviews due
# within the warning window raise an alert. Limit approval authority by amount, ascending
# (upper bound in yen or None, approver level): ≤¥10M team manager, ≤¥50M head of credit.
CREDIT_SUSPEND_DELAY_DAYS = env.int("CREDIT_SUSPEND_DELAY_DAYS", default=15)
CREDIT_REVIEW_WARNING_DAYS = 30
CREDIT_LIMIT_AUTHORITY = ((10_000_000, 1), (50_000_000, 2), (None, 3))

# Collection (消込): a payer may deduct up to this much as the bank's transfer fee; a
# reconciliation run allocates a suggestion by itself from this confidence up.
COLLECTION_FEE_TOLERANCE = env.int("COLLECTION_FEE_TOLERANCE", default=880)
COLLECTION_AUTO_THRESHOLD = env.str("COLLECTION_AUTO_THRESHOLD", default="0.900")

# KPI dashboard: default what-if assumptions (rates as strings; a manager may override them
# for their session). PD by debtor rating and LGD give the expected loss; the per-stage
# probability weighs this month's expected execution.
DASHBOARD_PD_BY_RATING = {"A": "0.0050", "B": "0.0100", "C": "0.0300", "D": "0.1000",
                          "E": "0.3000"}  # fmt: skip
DASHBOARD_LGD = "0.4500"
DASHBOARD_STAGE_PROBABILITY = {
    "lead": "0.0500", "documents": "0.1000", "screening": "0.2000", "underwriting": "0.3500",
    "quoted": "0.5000", "approval": "0.7000", "contracted": "0.9000",
}  # fmt: skip

# Covering indexes (INCLUDE) exist on PostgreSQL; SQLite, the embedded default, builds them
# as plain indexes, which is fine for a first run.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Demo users (password demo-pass) exist only outside production.
DEMO_USERS_ALLOWED = True

# Login throttling: 5 failures for one username from one address locks it for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# Always Japanese, whatever the browser asks for: no LocaleMiddleware.
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# Cache (the KPI dashboard's figures, keyed by the audit log's newest event): Redis when
# REDIS_URL is set, shared by every worker; otherwise each process keeps its own.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": env("REDIS_URL")}
    if env("REDIS_URL", default="")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}  # fmt: skip

# Celery: Redis broker when REDIS_URL is set, otherwise tasks run eagerly in-process.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Nightly checks run at this local time unless an admin edits the schedule.
NIGHTLY_CHECKS_HOUR = 2

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "core.api.permissions.ModelPermissions",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Factoring back office API",
    "DESCRIPTION": "案件・顧客・与信・回収の REST API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets shared by several fields get one stable name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CreditGradeEnum": "credit.choices.Grade",
        "CreditLimitKindEnum": "credit.choices.LimitKind",
        "ExposureEntryKindEnum": "credit.choices.EntryKind",
        "DealChannelEnum": "deals.choices.Channel",
        "ApprovalDecisionEnum": "deals.choices.Decision",
    },
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Outside production WhiteNoise serves straight from the finders, so no collectstatic is needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
