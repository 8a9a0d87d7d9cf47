"""Django settings for Tepat. Everything comes from environment variables (see docs/operations.md)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

from tepat.core import keys as key_provider
from tepat.core.env import (
    MIN_SECRET_KEY_CHARS,
    SettingError,
    development_mode,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    key_weakness,
    secret_from_env_or_file,
)

# Everything this process creates (SQLite files, keys, exports, uploads, logs under var/) is
# readable by its own user only: 0600 files, 0700 directories.
os.umask(0o077)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(env_str("TEPAT_HOME", str(Path.cwd())))
VAR_DIR = Path(env_str("TEPAT_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("TEPAT_DEBUG", False)
# A developer's machine, the demo (the Makefile's demo and serve targets set TEPAT_DEV=true) or
# a pytest run: missing keys are generated under var/keys and plain HTTP is served. A deployment
# sets neither: then every key comes from the environment (or NAME_FILE), a missing, placeholder
# or short key stops start-up with a message naming it, and HTTPS is required (below).
TEPAT_DEV = development_mode()
TEPAT_ALLOW_GENERATED_KEYS = TEPAT_DEV
_KEYS_DIR = VAR_DIR / "keys"
SECRET_KEY = secret_from_env_or_file(
    "TEPAT_SECRET_KEY",
    _KEYS_DIR / "secret_key",
    nbytes=48,
    allow_generate=TEPAT_ALLOW_GENERATED_KEYS,
    min_chars=MIN_SECRET_KEY_CHARS,
)
# Field encryption (AES-256-GCM) and blind-index (HMAC-SHA256) keys come from a key provider
# (tepat.core.keys, TEPAT_KEY_PROVIDER): "env" (the default), "file" or "kms". With "env": base64
# of 32 random bytes each; a key id before a colon ("k2:BASE64") allows rotation: new writes use
# TEPAT_FIELD_KEY, reads also try TEPAT_FIELD_KEYS_OLD (comma-separated, or _FILE). A deployment
# gives them as NAME_FILE outside TEPAT_VAR_DIR (inline values need TEPAT_ALLOW_INLINE_KEYS).
TEPAT_KEYS = key_provider.KeyConfig.from_env(
    production=not TEPAT_ALLOW_GENERATED_KEYS, forbidden_dirs=(str(VAR_DIR),)
)
if TEPAT_KEYS.provider == "env":
    FIELD_KEY = secret_from_env_or_file(
        "TEPAT_FIELD_KEY", _KEYS_DIR / "field_key", allow_generate=TEPAT_ALLOW_GENERATED_KEYS
    )
    FIELD_KEYS_OLD = [k for k in env_str("TEPAT_FIELD_KEYS_OLD").replace(",", " ").split() if k]
    BLIND_INDEX_KEY = secret_from_env_or_file(
        "TEPAT_BLIND_INDEX_KEY", _KEYS_DIR / "blind_key", allow_generate=TEPAT_ALLOW_GENERATED_KEYS
    )
    if not TEPAT_ALLOW_GENERATED_KEYS:
        key_provider.check_env_keys(
            os.environ,
            forbidden_dirs=TEPAT_KEYS.forbidden_dirs,
            allow_inline=key_provider.allow_inline_keys(),
        )
else:
    # Read from TEPAT_KEY_FILE (and unwrapped by the KMS) here, at start: a missing, open or
    # malformed key file, or an unreachable KMS, stops start-up with a message naming it.
    key_provider.load(TEPAT_KEYS)
    key_provider.check_no_env_keys(os.environ, TEPAT_KEYS.provider)
    FIELD_KEY, FIELD_KEYS_OLD, BLIND_INDEX_KEY = "", [], ""
if not TEPAT_ALLOW_GENERATED_KEYS:
    # Keys read where they are used (vouchers, the transparency log's signer) are checked at
    # start-up too, so a deployment never generates one silently beside the database later.
    for _name in ("TEPAT_VOUCHER_SIGNING_KEY", "TEPAT_LEDGER_SIGNING_KEY"):
        _value = env_str(_name)
        if not _value:
            raise SettingError(
                f"{_name} is not set. Set it (or {_name}_FILE) from your secret store; see "
                "docs/operations.md (production settings)."
            )
        _problem = key_weakness(_name, _value)
        if _problem:
            raise SettingError(_problem)

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
    "csp",  # Content-Security-Policy header and its system checks
    "ninja",  # serves Swagger UI from its own static files (no CDN at run time)
    "django_tasks",  # background work: Django's tasks framework (backport), see TASKS
    "django_tasks_db",  # its database queue and `tepat db_worker`
    "tepat.core",
    "tepat.messaging",
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
    "tepat.privacy",
    "tepat.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tepat.accounts.middleware.IdleTimeoutMiddleware",
    "tepat.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tepat.core.csp.CSPMiddleware",  # django-csp, header built once where it cannot vary
    "django_htmx.middleware.HtmxMiddleware",
    # A refusal from a page's view is a page; on htmx, any error page is an alert. Before the
    # DPO middleware, so that its 403 reaches htmx as an alert as well.
    "tepat.core.http_errors.TepatErrorMiddleware",
    "tepat.accounts.dpo.DpoAccessMiddleware",  # the DPO role reaches its own pages only
]
# A form sent with a stale or missing CSRF token: a page in the user's language, not Django's.
CSRF_FAILURE_VIEW = "tepat.core.http_errors.csrf_failure"

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
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
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
    # Beyond Django's 20,000 exact passwords: zxcvbn's leaked-password, word and name lists and
    # its patterns (keyboard walks, dates, l33t), all shipped in the package.
    {
        "NAME": "tepat.accounts.passwords.GuessablePasswordValidator",
        "OPTIONS": {"min_score": env_int("TEPAT_PASSWORD_MIN_SCORE", 3)},
    },
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
# Background work (each app's tasks.py) is queued in the database and run by `tepat db_worker`
# (docs/operations.md); inline jobs run it inside the request instead (tests, tiny offices).
TEPAT_INTEGRATION_INLINE_JOBS = env_bool("TEPAT_INTEGRATION_INLINE_JOBS", False)
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if TEPAT_INTEGRATION_INLINE_JOBS
            else "django_tasks_db.DatabaseBackend"
        )
    }
}

# SMS: "simulator" (a JSON-lines file under var/) or "http" (a real gateway, see
# tepat.messaging.gateway); the token and the webhook secret also read from *_FILE.
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

# Request bodies: uploads are held in memory (never written to disk in clear: tepat.core.uploads)
# up to the handler's own cap; other bodies and the number of files are capped before reading.
FILE_UPLOAD_HANDLERS = ["tepat.core.uploads.InMemoryUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 10

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
# A staff session ends this long after it began, and after TEPAT_IDLE_TIMEOUT_S without a
# request (accounts.middleware.IdleTimeoutMiddleware).
SESSION_COOKIE_AGE = env_int("TEPAT_SESSION_SECONDS", 8 * 3600)
TEPAT_IDLE_TIMEOUT_S = env_int("TEPAT_IDLE_TIMEOUT_S", 1800)
# HTTPS everywhere unless this is a development or demo installation (plain HTTP on
# 127.0.0.1). Behind a reverse proxy that ends TLS, name the header it sets (normally
# X-Forwarded-Proto) in TEPAT_TRUSTED_PROXY_HEADER; the proxy must overwrite that header on every
# request, or a client could claim HTTPS itself.
_HTTPS = not TEPAT_DEV
SESSION_COOKIE_SECURE = env_bool("TEPAT_SECURE_COOKIES", _HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("TEPAT_SSL_REDIRECT", _HTTPS)
SECURE_HSTS_SECONDS = env_int("TEPAT_HSTS_SECONDS", 365 * 24 * 3600 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("TEPAT_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("TEPAT_HSTS_PRELOAD", True)
_PROXY_HEADER = env_str("TEPAT_TRUSTED_PROXY_HEADER", "").strip()
if _PROXY_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_HEADER.upper().replace("-", "_"), "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts and styles from this site only, inline ones
# only with the per-response nonce (`nonce="{{ request.csp_nonce }}"`); style attributes stay
# allowed (the dashboard's tile grid positions its tiles with them); nothing may frame a page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "media-src": [SELF, "blob:"],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

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
            "TEPAT_BULK_READ_ALERT_EVENTS",
            "TEPAT_BULK_READ_ALERT_ROWS",
            "TEPAT_CASH_COLLECTION_DAYS",
            "TEPAT_CEK_LIMIT_PER_IP_HOUR",
            "TEPAT_CEK_LIMIT_PER_NAME_DAY",
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
            "TEPAT_MIN_CELL",
            "TEPAT_OTP_MAX_ATTEMPTS",
            "TEPAT_OTP_PER_NIK_HOUR",
            "TEPAT_OTP_TTL_SECONDS",
            "TEPAT_PKH_MAX_COMPONENTS",
            "TEPAT_PROVIDER_SIGNATURE_WINDOW_S",
            "TEPAT_SANGGAH_LAPSE_DAYS",
            "TEPAT_SMS_LIMIT_PER_IP_HOUR",
            "TEPAT_SMS_LIMIT_PER_SENDER_HOUR",
            "TEPAT_SMS_WEBHOOK_TOLERANCE_S",
            "TEPAT_SOD_DAYS",
            "TEPAT_SUPPRESSION_THRESHOLD",
            "TEPAT_TRACK_MISSES_PER_CODE_HOUR",
            "TEPAT_TRACK_MISSES_PER_IP_HOUR",
            "TEPAT_UPLOAD_MEMORY_MAX_BYTES",
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
            "TEPAT_BREACH_DETECTORS",  # JSON, checked by monitoring.detectors
            "TEPAT_DPO_CONTACT",
            "TEPAT_LINK_DUCKDB_MEMORY",
            "TEPAT_PROVIDER_CALLBACK_URL",
            "TEPAT_PROVIDER_KEYS",
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
