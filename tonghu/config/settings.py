"""Django settings for tonghu. Every deployment-specific value comes from the environment.

The embedded default keeps everything under ``var/`` beside the checkout (or under
``TONGHU_VAR_DIR``); ``DATABASE_URL`` switches to PostgreSQL for production.
"""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext
from django.utils.csp import CSP

from tonghu.config.env import (
    database_from_env,
    env_bool,
    env_int,
    env_list,
    env_path,
    env_str,
    secret_key_from_env,
)

# Lets ModelAdmin[Model] and QuerySet[Model] be subscripted at run time, as the stubs type them.
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PACKAGE_DIR.parent
VAR_DIR = env_path("TONGHU_VAR_DIR", default=BASE_DIR / "var")

SECRET_KEY = secret_key_from_env(key_file=VAR_DIR / "secret_key")
DEBUG = env_bool("TONGHU_DEBUG", default=False)
ALLOWED_HOSTS = env_list("TONGHU_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("TONGHU_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "tonghu.web.admin_site.TonghuAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "tonghu.divisions",
    "tonghu.accounts",
    "tonghu.audit",
    "tonghu.children",
    "tonghu.privacy",
    "tonghu.rounds",
    "tonghu.linkage",
    "tonghu.services",
    "tonghu.feeds",
    "tonghu.notifications",
    "tonghu.visits",
    "tonghu.guardianship",
    "tonghu.cases",
    "tonghu.alerts",
    "tonghu.stats",
    "tonghu.conferences",
    "tonghu.roster",
    "tonghu.backup",
    "tonghu.exchange",
    "tonghu.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tonghu.web.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "tonghu.audit.middleware.ClientAddressMiddleware",
    "tonghu.accounts.two_factor.TwoFactorMiddleware",  # after OTPMiddleware
    # Axes must come last so that it sees the outcome of every login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tonghu.config.urls"
WSGI_APPLICATION = "tonghu.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tonghu.web.context_processors.navigation",
                "tonghu.web.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASES = {"default": database_from_env(sqlite_path=VAR_DIR / "tonghu.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
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
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The admin's TOTP device pages never show users' secret keys.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout after repeated failures (django-axes): per account and per client address.
AXES_FAILURE_LIMIT = env_int("TONGHU_LOGIN_FAILURE_LIMIT", default=5, minimum=1)
AXES_COOLOFF_TIME = env_int("TONGHU_LOGIN_COOLOFF_MINUTES", default=30, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False

# Field encryption keys (Fernet) and the blind-index key live outside the database: in
# TONGHU_FIELD_KEYS / TONGHU_INDEX_KEY, or else in files under this folder (mode 0600).
KEY_DIR = env_path("TONGHU_KEY_DIR", default=VAR_DIR / "keys")
# Public keys of the counties this one exchanges packages with (private keys: KEY_DIR/exchange).
EXCHANGE_REGISTRY = env_path(
    "TONGHU_EXCHANGE_REGISTRY", default=KEY_DIR / "exchange" / "registry.json"
)

# Feed files: accepted and rejected rows of each import live as Parquet under this folder.
# Exchange packages made in or uploaded through the web pages (out/<county>, in/<county>).
EXCHANGE_DIR = env_path("TONGHU_EXCHANGE_DIR", default=VAR_DIR / "exchange")
FEED_STORE_DIR = env_path("TONGHU_FEED_DIR", default=VAR_DIR / "feeds")
# Each completed round's results (Parquet: links, children, services, changes) are kept here.
ROUND_STORE_DIR = env_path("TONGHU_ROUND_DIR", default=VAR_DIR / "rounds")
# DuckDB's memory for a round (beyond it DuckDB spills to the round's work folder): the 4 GB
# default suits a county; a province driver holding its scored pairs wants tens of GB.
ROUND_MEMORY_MB = env_int("TONGHU_ROUND_MEMORY_MB", default=4096, minimum=256)
TONGHU_PROFILE = env_str("TONGHU_PROFILE", "default")  # the deployment's policy profile
UPLOAD_MAX_BYTES = env_int("TONGHU_UPLOAD_MAX_MB", default=200, minimum=1) * 1024 * 1024
XLSX_MAX_UNPACKED_BYTES = (
    env_int("TONGHU_XLSX_MAX_UNPACKED_MB", default=1024, minimum=1) * 1024 * 1024
)
XLSX_MAX_RATIO = 200  # an XLSX member packed tighter than this is treated as a zip bomb

SESSION_COOKIE_AGE = env_int("TONGHU_SESSION_MINUTES", default=30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
_HTTPS = env_bool("TONGHU_HTTPS", default=False)
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = _HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if _HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it even before collectstatic
STATICFILES_DIRS = [BASE_DIR / "assets"] if (BASE_DIR / "assets").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Logs carry ids and codes only, never names, ID numbers or phones.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"tonghu": {"level": "INFO"}},
}
