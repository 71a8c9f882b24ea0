"""gunicorn's configuration for Sésame (`gunicorn -c deploy/gunicorn.conf.py portal.wsgi`).

Sync workers behind nginx, which buffers request bodies and slow clients: a worker is only ever
busy computing. The settings it reads from the environment are in deploy/sesame.env.example.

Metrics: with `PROMETHEUS_MULTIPROC_DIR` set, each worker writes its counters to files there and
`/metrics` adds them up (prometheus_client's multiprocess mode). The folder is emptied when
gunicorn starts (values of a previous run would be counted again) and a dead worker's live
values are forgotten."""

import multiprocessing
import os
from pathlib import Path

wsgi_app = "portal.wsgi:application"
bind = os.environ.get("SESAME_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("SESAME_WEB_WORKERS", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
# Longer than any page takes; nginx's proxy_read_timeout is longer still (deploy/nginx).
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycled now and then, so that a slow leak in a library never grows unbounded.
max_requests = 2000
max_requests_jitter = 200
# The proxy on this machine may say the client's scheme (Sésame reads the address itself:
# SESAME_TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("SESAME_TRUSTED_PROXIES", "127.0.0.1,::1")
# No access log: it would carry query strings (a search for a name). Sésame writes one JSON line
# per request itself, with its request id (portal/observability/requests.py).
accesslog = None
errorlog = "-"
# No control socket (gunicornc): systemd manages the process, and the home folder is read-only.
control_socket_disable = True
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "portal.observability.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
