"""NodeFlow settings: one module, driven by environment variables.

With no variable set at all NodeFlow runs in embedded mode: SQLite in ./data, an
in-memory broker and channel layer, everything in one process (`nodeflow dev`).
Setting REDIS_URL (and DATABASE_URL for PostgreSQL) switches to production mode.
"""

import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from nodeflow.env import env_bool, env_float, env_int, env_list, env_mapping, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("NODEFLOW_DATA_DIR", str(BASE_DIR / "data")))


def _secret_key():
    """SECRET_KEY from the environment, else one generated once and kept in DATA_DIR."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

REDIS_URL = env_str("REDIS_URL") or None
EMBEDDED = REDIS_URL is None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_celery_beat",
    "nodeflow",  # the project: its `nodeflow` management command
    "nodes",
    "workflows",
    "executions",
    "credentials",
    "variables",
    "triggers",
    "importers",
    "bench",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Security headers in every mode: no MIME sniffing, no framing, the origin only as referrer.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# NODEFLOW_HTTPS=true (production behind TLS): redirect to https, secure cookies, HSTS.
behind_https = env_bool("NODEFLOW_HTTPS", False)
SECURE_SSL_REDIRECT = behind_https
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # probes of load balancers and Prometheus speak http
SESSION_COOKIE_SECURE = behind_https
CSRF_COOKIE_SECURE = behind_https
SECURE_HSTS_SECONDS = env_int("NODEFLOW_HSTS_SECONDS", 31536000, minimum=0) if behind_https else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("NODEFLOW_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("NODEFLOW_HSTS_PRELOAD", True)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
if env_bool("NODEFLOW_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Every login (API token, web sign-in, admin) goes through the failure limit (nodeflow.security).
AUTHENTICATION_BACKENDS = ["nodeflow.security.RateLimitedModelBackend"]

ROOT_URLCONF = "nodeflow.urls"
ASGI_APPLICATION = "nodeflow.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "nodeflow" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database():
    url = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'nodeflow.sqlite3'}"
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
    except Exception as exc:  # dj_database_url raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} is not a database URL: {exc}") from None
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # IMMEDIATE transactions take the write lock at BEGIN, so two worker threads that
        # read-then-write the same execution serialise instead of failing with "locked".
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["CONN_MAX_AGE"] = 0
        # Nothing needs psycopg with SQLite, but DRF imports django.contrib.postgres (and with it
        # psycopg and libpq, about 10 MB) whenever it can: embedded mode's idle RSS is to stay
        # under 100 MB, so psycopg is made unimportable in a process that uses SQLite.
        sys.modules.setdefault("psycopg", None)
    elif engine != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"DATABASE_URL must be sqlite:// or postgres://, not {engine}")
    else:
        pool_size = env_int("DATABASE_POOL_SIZE", 0, minimum=0)
        if pool_size:
            # A pool of open connections (psycopg_pool) instead of one per request: what an
            # ASGI web process wants, where each request's sync code runs in a thread of its own.
            config["OPTIONS"] = {"pool": {"min_size": min(2, pool_size), "max_size": pool_size, "timeout": 10}}
            # Django then has the pool check each connection as it lends it (psycopg_pool's
            # check_connection, a cheap round trip): one that died with a PostgreSQL restart is
            # replaced instead of failing a request.
            config["CONN_HEALTH_CHECKS"] = True
            config["CONN_MAX_AGE"] = 0
    config["TEST"] = {"NAME": env_str("NODEFLOW_TEST_DATABASE")}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(DATA_DIR / "media")}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "nodeflow.api.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "nodeflow.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "nodeflow.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Proxies in front that append to X-Forwarded-For; 0 = the client is REMOTE_ADDR (a client-sent
    # X-Forwarded-For would otherwise pick its own throttle and login-failure bucket).
    "NUM_PROXIES": env_int("NODEFLOW_NUM_PROXIES", 0, minimum=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NodeFlow API",
    "DESCRIPTION": "Workflows, executions and live updates of NodeFlow.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # 3.1 schemas are JSON Schema 2020-12, so the workflow document's schema embeds as it is.
    "OAS_VERSION": "3.1.0",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "nodeflow.api.collapse_nullable_any",
                             "nodeflow.api.document_event_stream"],
}

# Celery: the database is the source of truth for execution state; the broker only
# carries "run node X of execution Y" messages, so results are not stored.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or (REDIS_URL or "memory://localhost/")
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # kombu's Redis transport, with workers that survive Redis going away (see nodeflow/broker.py).
    CELERY_BROKER_TRANSPORT = "nodeflow.broker:Transport"
CELERY_TASK_IGNORE_RESULT = True
# Only the benchmark's raw-Celery baseline (chords) needs a result backend.
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 4, minimum=1)
# Celery would close the database connection before and after every task; it closes it every
# 2 × this many tasks instead, and nodeflow.celery checks it before each task like Django does.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000, minimum=1)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
# django-celery-beat's scheduler, with schedule fires started in beat itself (workflows/beat.py).
CELERY_BEAT_SCHEDULER = "workflows.beat:Scheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Redis hands a message that a worker took and did not acknowledge to another worker after
# this long. Correctness does not depend on it: a message lost with its worker (or with Redis)
# is recovered from the database within NODEFLOW_RECOVER_QUEUED_AFTER_S (executions.recovery).
# Kept long, so that a node running for a long time, or a timer message waiting for its ETA, is
# not handed out again every few minutes (a duplicate is ignored, but costs a transaction).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("NODEFLOW_BROKER_VISIBILITY_TIMEOUT_S", 3600,
                                                                 minimum=60)}
if env_str("NODEFLOW_BROKER_PREFIX"):
    # Isolates several NodeFlow installations (or test runs) sharing one Redis.
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env_str("NODEFLOW_BROKER_PREFIX")
if CELERY_BROKER_URL.startswith("memory://"):
    # The in-memory transport polls; its default of once a second would add a second per node.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.005}

# The cache holds short-lived counters and markers (webhook rate limits, replay
# protection): shared through Redis in production, in this one process when embedded.
if EMBEDDED:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "nodeflow"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "nodeflow.cache.SharedRedisCache",  # one connection pool per process, not per request
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"nodeflow:{env_str('NODEFLOW_BROKER_PREFIX', '')}",
        },
    }
# Forgets Idempotency-Keys of webhooks once they are older than their time to live.
CELERY_BEAT_SCHEDULE = {
    "nodeflow.purge_idempotency_keys": {"task": "triggers.purge_idempotency_keys", "schedule": 3600.0},
    # Retention: finished executions past their workflow's policy go (workflows.retention).
    "nodeflow.prune_executions": {"task": "workflows.prune_executions",
                                  "schedule": float(env_int("NODEFLOW_PRUNE_INTERVAL_S", 3600, minimum=60))},
    # Global variables: the history past NODEFLOW_VARIABLE_HISTORY_DAYS goes; changes whose trigger.variable
    # executions were not started after their commit (the process died) are started.
    "nodeflow.prune_variable_history": {"task": "variables.prune_history",
                                        "schedule": float(env_int("NODEFLOW_VARIABLE_PRUNE_INTERVAL_S", 3600,
                                                                  minimum=60))},
    "nodeflow.sweep_variable_triggers": {"task": "workflows.sweep_variable_triggers", "schedule": 10.0},
}

if EMBEDDED:
    CHANNEL_LAYERS = {"default": {"BACKEND": "nodeflow.channels.ThreadSafeInMemoryChannelLayer"}}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "nodeflow.redis_channels.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"asgi:{env_str('NODEFLOW_BROKER_PREFIX', '')}"},
        },
    }

# Code node sandbox limits per run (ENGINE.md §Sandbox): NODEFLOW_SANDBOX_<LIMIT> is what a node
# gets when its params set no `limits`, NODEFLOW_SANDBOX_MAX_<LIMIT> the most a node's `limits` may
# ask for (more is clamped to it; it defaults to the default). The floors are sandbox.limits.MINIMA
# (below them the interpreter cannot start); the ceilings keep a slip of the keyboard from handing
# every code node an hour of CPU. Written out here rather than imported, so that loading the
# settings does not load the sandbox; tests/nodeflow/test_sandbox_settings.py checks they agree.
_SANDBOX_LIMIT_BOUNDS = {  # limit: (variable suffix, default, floor, ceiling)
    "cpu_ms": ("CPU_MS", 250, 10, 10 * 60 * 1000),
    "wall_ms": ("WALL_MS", 1000, 50, 60 * 60 * 1000),
    "memory_mb": ("MEMORY_MB", 128, 16, 16 * 1024),
    "output_bytes": ("OUTPUT_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
}


def _sandbox_limits_from_env():
    """{"default_limits": {…}, "max_limits": {…}} for sandbox.configure(), or ImproperlyConfigured."""
    defaults, maxima = {}, {}
    for limit, (suffix, default, floor, ceiling) in _SANDBOX_LIMIT_BOUNDS.items():
        default_name, max_name = f"NODEFLOW_SANDBOX_{suffix}", f"NODEFLOW_SANDBOX_MAX_{suffix}"
        defaults[limit] = env_int(default_name, default, minimum=floor, maximum=ceiling)
        maxima[limit] = env_int(max_name, defaults[limit], minimum=floor, maximum=ceiling)
        if defaults[limit] > maxima[limit]:
            raise ImproperlyConfigured(
                f"{default_name}={defaults[limit]} is above {max_name}={maxima[limit]}: the default a code node "
                f"gets cannot be more than the most a node may ask for; raise {max_name} or lower {default_name}"
            )
    return {"default_limits": defaults, "max_limits": maxima}


NODEFLOW = {
    "EMBEDDED": EMBEDDED,
    # Largest workflow document accepted by the API, in bytes.
    "MAX_DOCUMENT_BYTES": env_int("NODEFLOW_MAX_DOCUMENT_BYTES", 2 * 1024 * 1024, minimum=1024),
    # HTTP node: networks the SSRF guard lets through (comma-separated CIDRs or host names).
    "HTTP_ALLOW_NETWORKS": env_list("NODEFLOW_HTTP_ALLOW_NETWORKS"),
    "HTTP_MAX_RESPONSE_BYTES": env_int("NODEFLOW_HTTP_MAX_RESPONSE_BYTES", 10 * 1024 * 1024, minimum=1),
    # HTTP node's circuit breaker per host (nodes/http_request/breaker.py), unless a node's circuit_breaker
    # param says otherwise: consecutive transient failures within the window that open it (0: off), and how
    # long it stays open before a probe request is let through.
    "HTTP_BREAKER": {
        "failures": env_int("NODEFLOW_HTTP_BREAKER_FAILURES", 5, minimum=0),
        "window_s": env_float("NODEFLOW_HTTP_BREAKER_WINDOW_S", 60.0, minimum=0.001),
        "cooldown_s": env_float("NODEFLOW_HTTP_BREAKER_COOLDOWN_S", 30.0, minimum=0.001),
    },
    # Code node sandbox. SANDBOX_ALLOW_WEAK lets code run without bubblewrap/seccomp: unsafe.
    "SANDBOX_ALLOW_WEAK": env_bool("NODEFLOW_SANDBOX_ALLOW_WEAK_ISOLATION_UNSAFE", False),
    # ... and its limits per run: passed to sandbox.configure() as they are.
    "SANDBOX": _sandbox_limits_from_env(),
    # Node types of installed packages, as dotted module paths imported on first use.
    "NODE_MODULES": env_list("NODEFLOW_NODE_MODULES", []),
    # A running node's lease: a worker renews it while the node runs; when it expires
    # (the worker was killed) the reaper runs the node again.
    "NODE_LEASE_S": env_int("NODEFLOW_NODE_LEASE_S", 30, minimum=2),
    # How long a worker goes on running instant nodes it made ready before sending the rest to the broker.
    "LOCAL_RUN_BUDGET_S": env_float("NODEFLOW_LOCAL_RUN_BUDGET_S", 1.0, minimum=0.0),
    # A run started through the API or a sync webhook runs its instant nodes in the transaction that
    # creates it, in that request (executions.executing.start_here), for up to this long (and the budget
    # above); the rest goes to the workers. It bounds how long the answer waits, and how long the run's
    # pure-Python work takes the GIL from the process's other requests. 0: the workers run every node,
    # and the web processes none.
    "LOCAL_RUN_ON_START_S": env_float("NODEFLOW_LOCAL_RUN_ON_START_S", 0.1, minimum=0.0),
    # ... and how many of them one transaction claims at most (the rest of a wider fan-out is sent).
    "LOCAL_RUN_BATCH": env_int("NODEFLOW_LOCAL_RUN_BATCH", 1000, minimum=1),
    # ... and how long a contained node (code.python) that goes on a chain there may run inside that
    # transaction (within the budget): one that needs longer is stopped and runs after the commit. 0: never,
    # the default on SQLite, whose transactions lock the whole database (PostgreSQL's lock one execution).
    "LOCAL_RUN_CONTAINED_MS": env_int("NODEFLOW_LOCAL_RUN_CONTAINED_MS",
                                      0 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 100, minimum=0),
    "REAPER_INTERVAL_S": env_int("NODEFLOW_REAPER_INTERVAL_S", 5, minimum=1),
    # Recovery (executions.recovery): a queued node run not claimed this long after it was
    # queued is sent again (then after twice its age, and so on), and a timer or retry not
    # fired this long after it was due is fired, whatever became of the broker's message.
    "RECOVER_QUEUED_AFTER_S": env_int("NODEFLOW_RECOVER_QUEUED_AFTER_S", 30, minimum=1),
    "RECOVER_TIMER_GRACE_S": env_int("NODEFLOW_RECOVER_TIMER_GRACE_S", 5, minimum=0),
    # Node outputs larger than this (JSON bytes) are stored as files and referenced with a preview.
    "OUTPUT_INLINE_MAX_BYTES": env_int("NODEFLOW_OUTPUT_INLINE_MAX_BYTES", 256 * 1024, minimum=1024),
    # Composition (executions.children): the most children a flow.foreach runs at once (its
    # `concurrency` is capped at this), and how deep sub-workflow calls and groups may nest.
    "FOREACH_MAX_CONCURRENCY": env_int("NODEFLOW_FOREACH_MAX_CONCURRENCY", 64, minimum=1),
    "MAX_CALL_DEPTH": env_int("NODEFLOW_MAX_CALL_DEPTH", 10, minimum=1),
    # Celery queue per node type, over the queue each type declares (default, http, sandbox):
    # e.g. NODEFLOW_QUEUE_ROUTES="acme.score=sandbox,http.request=http" to scale kinds apart.
    "QUEUE_ROUTES": env_mapping("NODEFLOW_QUEUE_ROUTES"),
    # GET /metrics answers a staff session, or `Authorization: Bearer <token>` when this is
    # set; outside embedded mode nobody else unless NODEFLOW_METRICS_PUBLIC (a scraper on a
    # network only it reaches).
    "METRICS_TOKEN": env_str("NODEFLOW_METRICS_TOKEN") or None,
    "METRICS_PUBLIC": env_bool("NODEFLOW_METRICS_PUBLIC", False),
    # How long /healthz waits for a worker to answer a ping, in seconds.
    "HEALTH_WORKER_TIMEOUT_S": 1.0,
    # Keys encrypting secrets at rest (nodeflow.crypto): comma-separated Fernet keys, the
    # first encrypts, all decrypt. Empty: one key derived from SECRET_KEY.
    "SECRET_KEYS": env_list("NODEFLOW_SECRET_KEYS"),
    # The address clients reach NodeFlow at (https://flows.example.com), for webhook URLs;
    # empty: taken from each API request.
    "PUBLIC_URL": (env_str("NODEFLOW_PUBLIC_URL") or "").rstrip("/") or None,
    # Webhooks: requests per minute per webhook URL (a trigger may set a lower limit; 0 = none),
    # how long POST …/listen/ keeps test URLs live, and how long an Idempotency-Key is remembered.
    "WEBHOOK_RATE_LIMIT_PER_MIN": env_int("NODEFLOW_WEBHOOK_RATE_LIMIT_PER_MIN", 600, minimum=0),
    "WEBHOOK_LISTEN_S": env_int("NODEFLOW_WEBHOOK_LISTEN_S", 120, minimum=1),
    "WEBHOOK_IDEMPOTENCY_TTL_S": env_int("NODEFLOW_WEBHOOK_IDEMPOTENCY_TTL_S", 24 * 3600, minimum=60),
    # The webhook door (triggers.door, PostgreSQL only): accepted requests are written in batches of up to
    # WEBHOOK_DOOR_BATCH rows on a pool of WEBHOOK_DOOR_POOL_SIZE connections per web process; a production
    # URL's lookup is kept in memory up to WEBHOOK_HOOK_CACHE_S (changes drop it at once through Redis).
    "WEBHOOK_DOOR_BATCH": env_int("NODEFLOW_WEBHOOK_DOOR_BATCH", 200, minimum=1),
    "WEBHOOK_DOOR_POOL_SIZE": env_int("NODEFLOW_WEBHOOK_DOOR_POOL_SIZE", 4, minimum=1),
    "WEBHOOK_HOOK_CACHE_S": env_int("NODEFLOW_WEBHOOK_HOOK_CACHE_S", 60, minimum=1),
    # Threads per web process for the door's checks (cache and, on a lookup miss, ORM calls).
    "WEBHOOK_DOOR_THREADS": env_int("NODEFLOW_WEBHOOK_DOOR_THREADS", 8, minimum=1),
    # API throttles ("N/s|min|hour|day" or none): token requests per client address, runs per user.
    "THROTTLE_RATES": {
        "auth": env_rate("NODEFLOW_THROTTLE_AUTH", "30/min"),
        "run": env_rate("NODEFLOW_THROTTLE_RUN", "300/min"),
    },
    # Failed logins of one user name from one address within the window before logins from there
    # are refused until it ends (ten times as many for any names from one address); 0 = no limit.
    "LOGIN_FAILURE_LIMIT": env_int("NODEFLOW_LOGIN_FAILURE_LIMIT", 10, minimum=0),
    "LOGIN_FAILURE_WINDOW_S": env_int("NODEFLOW_LOGIN_FAILURE_WINDOW_S", 900, minimum=1),
    # Retention (executions.retention), unless a workflow's settings.retention says otherwise; 0 = no limit:
    # days a succeeded or cancelled execution is kept, days a failed or timed-out one is kept, and the most
    # succeeded or cancelled executions kept per workflow. Pruned by beat (NODEFLOW_PRUNE_INTERVAL_S, see
    # CELERY_BEAT_SCHEDULE), PRUNE_BATCH executions per transaction.
    "RETENTION_DAYS": env_int("NODEFLOW_RETENTION_DAYS", 30, minimum=0),
    "RETENTION_FAILED_DAYS": env_int("NODEFLOW_RETENTION_FAILED_DAYS", 90, minimum=0),
    "RETENTION_COUNT": env_int("NODEFLOW_RETENTION_COUNT", 0, minimum=0),
    "PRUNE_BATCH": env_int("NODEFLOW_PRUNE_BATCH", 500, minimum=1, maximum=10000),
    # Executions of one owner in progress at a time (0: no limit); further runs stay queued, held, and start
    # as others end (executions.limits), like a workflow's settings.max_concurrent.
    "MAX_RUNNING_PER_OWNER": env_int("NODEFLOW_MAX_RUNNING_PER_OWNER", 0, minimum=0),
    # A node with a timeout_s runs its work in a process of its own, killed at the timeout
    # (executions.stoppable): on by default in embedded mode, whose worker threads cannot be stopped.
    "STOPPABLE_NODES": env_bool("NODEFLOW_STOPPABLE_NODES", EMBEDDED),
    # Embedded mode (SQLite): after a prune, VACUUM when at least this share of the file is free pages.
    "SQLITE_VACUUM_FREE_RATIO": env_float("NODEFLOW_SQLITE_VACUUM_FREE_RATIO", 0.2, minimum=0.0, maximum=1.0),
    # Global variables (variables/): the most bytes of one value's JSON, and the days the history of
    # changes is kept (pruned by beat, NODEFLOW_VARIABLE_PRUNE_INTERVAL_S); 0 = kept for ever.
    "VARIABLE_MAX_BYTES": env_int("NODEFLOW_VARIABLE_MAX_BYTES", 64 * 1024, minimum=16),
    "VARIABLE_HISTORY_DAYS": env_int("NODEFLOW_VARIABLE_HISTORY_DAYS", 30, minimum=0),
}
# Request bodies: a maximal document plus room for the request around it; larger
# bodies answer 413 (nodeflow.api) before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = NODEFLOW["MAX_DOCUMENT_BYTES"] + 512 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {"nodeflow": {"level": env_str("LOG_LEVEL", "INFO"), "propagate": True}},
}
