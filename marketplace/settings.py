"""Shequn settings. Every value comes from the environment (see README), with safe
development defaults: no DATABASE_URL means an embedded SQLite file and inline tasks."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from marketplace.env import env_bool, env_decimal, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / ".data")))

DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = env_str("SECRET_KEY", "dev-insecure-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "import_export",
    "marketplace",
    "vendors",
    "catalog",
    "orders",
    "payments",
    "community",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"
SITE_ID = 1

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
                "marketplace.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20},
        }
    }
USES_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, Celery ----------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "shequn"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE = {
    "orders-sweep": {"task": "orders.tasks.orders_sweep", "schedule": timedelta(minutes=1)},
    "settlement": {"task": "payments.tasks.settlement_run", "schedule": timedelta(hours=1)},
    "provider-calls": {"task": "payments.tasks.provider_calls_sweep", "schedule": timedelta(minutes=1)},
    "frozen-money-watch": {"task": "payments.tasks.frozen_money_watch", "schedule": timedelta(hours=24)},
    "bank-transfers-expire": {"task": "payments.tasks.bank_transfers_expire", "schedule": timedelta(minutes=15)},
    # Yesterday's statements, once the providers have listed the whole day (PayPal: up to 3 h late).
    "reconciliation": {"task": "payments.tasks.reconciliation_daily", "schedule": crontab(hour=4, minute=0)},
}

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "marketplace.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional" if DEBUG else "mandatory")
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "marketplace.adapters.AccountAdapter"

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "marketplace.auth.axes_username"
AXES_LOCKOUT_CALLABLE = "marketplace.auth.axes_lockout_response"
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)

# --- E-mail ---------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Shequn <noreply@shequn.local>")

# --- I18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en", "zh-hans")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
# Identity documents of shop applications and return photos: never under MEDIA_ROOT (which
# may be served publicly); only access-checked views read them.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(DATA_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {  # under PRIVATE_MEDIA_ROOT
        "BACKEND": "marketplace.uploads.PrivateStorage",
        "OPTIONS": {"base_url": "/private-not-served/"},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 8 * 1024 * 1024)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000)
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "marketplace.api.PageNumberPagination",
    "PAGE_SIZE": 24,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "marketplace.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shequn marketplace API",
    "DESCRIPTION": "Catalog, cart, orders and the vendor back office of the Shequn marketplace.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ProductStatusEnum": "catalog.models.Product.Status",
        "OrderStatusEnum": "orders.models.Order.Status",
        "VendorOrderStatusEnum": "orders.models.VendorOrder.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
        "VendorStatusEnum": "vendors.models.Vendor.Status",
        "ApplicationStatusEnum": "vendors.models.VendorApplication.Status",
    },
}

# --- Marketplace rules ----------------------------------------------------------------
DEFAULT_CURRENCY = env_str("DEFAULT_CURRENCY", "CNY")
ORDER_PAYMENT_TIMEOUT_MINUTES = env_int("ORDER_PAYMENT_TIMEOUT_MINUTES", 30)
ORDER_AUTO_DELIVER_DAYS = env_int("ORDER_AUTO_DELIVER_DAYS", 10)
ORDER_AUTO_COMPLETE_DAYS = env_int("ORDER_AUTO_COMPLETE_DAYS", 0)
# Days after delivery during which the buyer may open a return; a shop order settles after it.
RETURN_WINDOW_DAYS = env_int("RETURN_WINDOW_DAYS", 7)
CART_MAX_LINE_QUANTITY = env_int("CART_MAX_LINE_QUANTITY", 999)
SERVE_MEDIA = env_bool("SERVE_MEDIA", default=DEBUG)
PAGE_CACHE_ENABLED = env_bool("PAGE_CACHE_ENABLED", default=True)
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 300)
# Facet counts, ranked search ids and the category tree, keyed on the catalog version (never
# stale); 0 turns the counts cache off.
CATALOG_COUNTS_CACHE_SECONDS = env_int("CATALOG_COUNTS_CACHE_SECONDS", 300)
SANDBOX_PAYMENT_SECRET = env_str("SANDBOX_PAYMENT_SECRET", "sandbox-dev-secret")
# The sandbox gateway's fee on each capture, like a real provider's (WeChat Pay charges 0.6%).
SANDBOX_FEE_RATE = env_decimal("SANDBOX_FEE_RATE", "0.0060")
# WeChat Pay v3 profit sharing (分账), enabled by adding "wechatpay" to PAYMENT_PROVIDERS; the
# system check in payments/apps.py refuses to start without the merchant's credentials.
WECHATPAY_BASE_URL = env_str("WECHATPAY_BASE_URL", "https://api.mch.weixin.qq.com")
WECHATPAY_MCHID = env_str("WECHATPAY_MCHID")
WECHATPAY_APPID = env_str("WECHATPAY_APPID")
WECHATPAY_SERIAL_NO = env_str("WECHATPAY_SERIAL_NO")  # our merchant API certificate's serial
WECHATPAY_PRIVATE_KEY_PATH = env_str("WECHATPAY_PRIVATE_KEY_PATH")  # apiclient_key.pem
# WeChat Pay's platform public key (or certificate) PEM and its id, which notifications carry
# in Wechatpay-Serial.
WECHATPAY_PLATFORM_CERT_PATH = env_str("WECHATPAY_PLATFORM_CERT_PATH")
WECHATPAY_PLATFORM_SERIAL = env_str("WECHATPAY_PLATFORM_SERIAL")
WECHATPAY_APIV3_KEY = env_str("WECHATPAY_APIV3_KEY")
WECHATPAY_FEE_RATE = env_decimal("WECHATPAY_FEE_RATE", "0.0060")
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = env_int("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", 300)
PAYMENT_PROVIDERS = env_list("PAYMENT_PROVIDERS", ["sandbox"])
# PayPal Checkout (Orders v2) for international buyers. The REST app's credentials and the id of
# the webhook registered for it (Developer Dashboard); payments.apps refuses "paypal" in
# PAYMENT_PROVIDERS without them. Live: PAYPAL_BASE_URL=https://api-m.paypal.com.
PAYPAL_BASE_URL = env_str("PAYPAL_BASE_URL", "https://api-m.sandbox.paypal.com")
PAYPAL_CLIENT_ID = env_str("PAYPAL_CLIENT_ID")
PAYPAL_CLIENT_SECRET = env_str("PAYPAL_CLIENT_SECRET")
PAYPAL_WEBHOOK_ID = env_str("PAYPAL_WEBHOOK_ID")
PAYPAL_FEE_RATE = env_decimal("PAYPAL_FEE_RATE", "0.0349")  # the merchant's PayPal rate, for the split
PAYPAL_TIMEOUT_SECONDS = env_int("PAYPAL_TIMEOUT_SECONDS", 20)
# Bank transfer (UnionPay B2B style) for large company payments. The payee is the licensed
# institution's collection account (never the platform's own account: no 二清); the bank signs
# its credit notifications with the shared secret. payments.apps refuses "bank_transfer" in
# PAYMENT_PROVIDERS without them. Buyers have BANK_TRANSFER_DAYS to pay; the order stays open.
BANK_TRANSFER_PAYEE_NAME = env_str("BANK_TRANSFER_PAYEE_NAME")
BANK_TRANSFER_PAYEE_ACCOUNT = env_str("BANK_TRANSFER_PAYEE_ACCOUNT")
BANK_TRANSFER_PAYEE_BANK = env_str("BANK_TRANSFER_PAYEE_BANK")
BANK_TRANSFER_NOTIFY_SECRET = env_str("BANK_TRANSFER_NOTIFY_SECRET")
BANK_TRANSFER_DAYS = env_int("BANK_TRANSFER_DAYS", 7)
BANK_TRANSFER_FEE_RATE = env_decimal("BANK_TRANSFER_FEE_RATE", "0")
# Split payments (docs/payments.md): the commission when no admin rule applies, who bears the
# provider's fee ("vendor" or "platform"), and how many days after delivery a shop order can
# still be returned before it settles.
COMMISSION_DEFAULT_RATE = env_decimal("COMMISSION_DEFAULT_RATE", "0.0500")
PROVIDER_FEE_BORNE_BY = env_str("PROVIDER_FEE_BORNE_BY", "vendor")
SETTLEMENT_BATCH_SIZE = env_int("SETTLEMENT_BATCH_SIZE", 20000)
# The provider that pays out available balances to the parties' own accounts.
PAYOUT_PROVIDER = env_str("PAYOUT_PROVIDER", "sandbox")
# Split (or release) money frozen at a provider this many days before the provider's own deadline.
FREEZE_SAFETY_DAYS = env_int("FREEZE_SAFETY_DAYS", 7)
# The highest referral commission rate a shop may set on a product (0.2000 = 20% of the line).
REFERRAL_RATE_MAX = env_decimal("REFERRAL_RATE_MAX", "0.2000")

# --- Production hardening -------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
