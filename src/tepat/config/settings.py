"""Django settings for Tepat. Everything comes from environment variables (see docs/operations.md)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dj_database_url

from tepat.config.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    secret_from_env_or_file,
)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(env_str("TEPAT_HOME", str(Path.cwd())))
VAR_DIR = Path(env_str("TEPAT_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("TEPAT_DEBUG", False)
SECRET_KEY = secret_from_env_or_file("TEPAT_SECRET_KEY", VAR_DIR / "keys" / "secret_key")
# Field encryption (AES-256-GCM) and blind-index (HMAC-SHA256) keys: base64 of 32 random bytes.
# A key id before a colon ("k2:BASE64") allows rotation: new writes use TEPAT_FIELD_KEY, reads
# also try TEPAT_FIELD_KEYS_OLD (comma-separated).
FIELD_KEY = secret_from_env_or_file("TEPAT_FIELD_KEY", VAR_DIR / "keys" / "field_key")
FIELD_KEYS_OLD = env_list("TEPAT_FIELD_KEYS_OLD", [])
BLIND_INDEX_KEY = secret_from_env_or_file("TEPAT_BLIND_INDEX_KEY", VAR_DIR / "keys" / "blind_key")

# Reverse proxies (addresses or CIDR blocks) whose X-Forwarded-For is believed for per-address
# rate limits on the citizen pages; empty means the socket address is the client.
TEPAT_TRUSTED_PROXIES = env_list("TEPAT_TRUSTED_PROXIES", [])

ALLOWED_HOSTS = env_list("TEPAT_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("TEPAT_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves Swagger UI from its own static files (no CDN at run time)
    "tepat.core",
    "tepat.accounts",
    "tepat.regions",
    "tepat.registry",
    "tepat.integration",
    "tepat.targeting",
    "tepat.programs",
    "tepat.payments",
    "tepat.verification",
    "tepat.synth",
    "tepat.ledger",
    "tepat.transparency",
    "tepat.monitoring",
    "tepat.portal",
    "tepat.grievances",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tepat.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tepat.config.urls"
WSGI_APPLICATION = "tepat.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{VAR_DIR / 'tepat.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("TEPAT_DATABASE_URL", _default_sqlite),
        conn_max_age=env_int("TEPAT_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets readers go on while one writer works; IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        # A 64 MiB page cache (the default is 2 MiB): linkage runs update and index a million
        # rows, and a cache smaller than the indexes re-reads pages on every statement.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA busy_timeout=10000; PRAGMA cache_size=-65536;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "registry:search"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Staff log-in: lock-out after this many failures in a row, for this many minutes.
TEPAT_LOGIN_MAX_FAILURES = env_int("TEPAT_LOGIN_MAX_FAILURES", 5)
TEPAT_LOGIN_LOCKOUT_MINUTES = env_int("TEPAT_LOGIN_LOCKOUT_MINUTES", 15)
# Failures from one address (any username) within the lock-out window before it is throttled.
TEPAT_LOGIN_IP_MAX_FAILURES = env_int("TEPAT_LOGIN_IP_MAX_FAILURES", 30)
# TOTP is required for staff; the demo may relax it for a first look (never in production).
TEPAT_REQUIRE_2FA = env_bool("TEPAT_REQUIRE_2FA", True)

# Record linkage (data integration): pairs at or above the match threshold are linked, those
# between the review and match thresholds go to the clerical review queue.
TEPAT_LINK_MATCH_THRESHOLD = env_float("TEPAT_LINK_MATCH_THRESHOLD", 0.95)
TEPAT_LINK_REVIEW_THRESHOLD = env_float("TEPAT_LINK_REVIEW_THRESHOLD", 0.5)
# Run uploaded imports inside the request instead of a background thread (tests, tiny offices).
TEPAT_INTEGRATION_INLINE_JOBS = env_bool("TEPAT_INTEGRATION_INLINE_JOBS", False)

# SMS: "simulator" (a JSON-lines file under var/) or "http" (a real gateway, see
# tepat.portal.gateway); the token and the webhook secret also read from *_FILE.
TEPAT_SMS_GATEWAY = env_str("TEPAT_SMS_GATEWAY", "simulator")
TEPAT_SMS_HTTP_URL = env_str("TEPAT_SMS_HTTP_URL", "")
TEPAT_SMS_HTTP_TOKEN = env_str("TEPAT_SMS_HTTP_TOKEN", "")
TEPAT_SMS_HTTP_TIMEOUT_S = env_float("TEPAT_SMS_HTTP_TIMEOUT_S", 5.0)
TEPAT_SMS_HTTP_RETRIES = env_int("TEPAT_SMS_HTTP_RETRIES", 2)
TEPAT_SMS_WEBHOOK_SECRET = env_str("TEPAT_SMS_WEBHOOK_SECRET", "")

LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("TEPAT_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_SECURE = env_bool("TEPAT_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

REDIS_URL = env_str("TEPAT_REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("TEPAT_LOG_LEVEL", "WARNING")},
}

# Settings whose default lives where they are read (getattr with a default, next to the code and
# its tests); the environment overrides them only when it names them. Documented in
# docs/operations.md.
_FROM_ENV_WHEN_SET: dict[str, Callable[[str, Any], Any]] = {
    **dict.fromkeys(
        (
            "TEPAT_CASH_COLLECTION_DAYS",
            "TEPAT_CEK_LIMIT_PER_IP_HOUR",
            "TEPAT_CEK_LIMIT_PER_NIK_DAY",
            "TEPAT_CHALLENGE_MAX_AGE_S",
            "TEPAT_CITIZEN_SESSION_S",
            "TEPAT_COMPLAINT_LIMIT_PER_IP_HOUR",
            "TEPAT_DEVICE_CLOCK_SKEW_SECONDS",
            "TEPAT_EVIDENCE_MAX_BYTES",
            "TEPAT_EVIDENCE_MAX_PIXELS",
            "TEPAT_FACE_MAX_UPLOAD_BYTES",
            "TEPAT_GRIEVANCE_DEADLINE_DAYS",
            "TEPAT_IMPORT_STALE_SECONDS",
            "TEPAT_INTEGRATION_MAX_UPLOAD_BYTES",
            "TEPAT_OTP_MAX_ATTEMPTS",
            "TEPAT_OTP_PER_NIK_HOUR",
            "TEPAT_OTP_TTL_SECONDS",
            "TEPAT_PKH_MAX_COMPONENTS",
            "TEPAT_SANGGAH_LAPSE_DAYS",
            "TEPAT_SMS_LIMIT_PER_SENDER_HOUR",
            "TEPAT_SMS_WEBHOOK_TOLERANCE_S",
            "TEPAT_USUL_VERIFY_DAYS",
            "TEPAT_VOUCHER_VALID_DAYS",
        ),
        env_int,
    ),
    **dict.fromkeys(
        ("TEPAT_FACE_THRESHOLD", "TEPAT_PROVIDER_TIMEOUT_S", "TEPAT_SMS_HTTP_BACKOFF_S"),
        env_float,
    ),
    **dict.fromkeys(
        (
            "TEPAT_LINK_DUCKDB_MEMORY",
            "TEPAT_PROVIDER_CALLBACK_TOKEN",
            "TEPAT_PROVIDER_CALLBACK_URL",
            "TEPAT_PROVIDER_URL",
            "TEPAT_SMS_GATEWAY_TOKEN",
            "TEPAT_SMS_SIM_PATH",
            "TEPAT_VERIFICATION_DEFAULT_METHODS",
        ),
        env_str,
    ),
    "TEPAT_SMS_SIMULATOR": env_bool,
}
_EMPTY: dict[Any, Any] = {env_int: 0, env_float: 0.0, env_str: "", env_bool: False}
for _name, _parse in _FROM_ENV_WHEN_SET.items():
    # Only env_str reads NAME_FILE (secrets); the others are plain values.
    if _name in os.environ or (_parse is env_str and f"{_name}_FILE" in os.environ):
        globals()[_name] = _parse(_name, _EMPTY[_parse])
