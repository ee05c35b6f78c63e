"""Test settings: PostgreSQL whenever DATABASE_URL is set (CI), SQLite otherwise.

Celery runs eagerly here; the integration tests point the app at Redis themselves.
"""

from .base import *  # noqa: F403
from .base import BASE_DIR, env, without_jit

DEBUG = False
SECRET_KEY = "test-only-secret-key"
ALLOWED_HOSTS = ["*"]
DATABASES = {
    "default": without_jit(env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'test.sqlite3'}"))
}
# Tests build and roll back many small books: no figures carried from one to the next
# (tests/dashboard/test_cache.py turns a real cache on for itself).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
OTP_REQUIRED = False
MEDIA_ROOT = BASE_DIR / "test-artifacts" / "media"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
