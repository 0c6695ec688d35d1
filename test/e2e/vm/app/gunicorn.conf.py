# gunicorn settings for the loadgate e2e demo app (gunicorn 23 from trixie, see build-image.sh).
import os

bind = "0.0.0.0:8000"
worker_class = "sync"
# 4 sync workers x 300 MiB (/hungry default) > the ~970 MiB a 1 GiB guest has,
# so concurrent /hungry requests end in an OOM kill without swap but fit with
# a 2x swap file.
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# Not gunicorn's 30 s: under TCG a worker stalled by memory thrashing can exceed
# 30 s, and gunicorn then SIGKILLs it itself, logging the very same "was sent
# SIGKILL! Perhaps out of memory?" line as after a kernel OOM kill.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
# Import Django once in the master: under TCG emulation each import costs
# seconds, and a worker respawned after an OOM kill is ready at once.
preload_app = True
chdir = "/opt/loadgate-demo"
loglevel = "info"
accesslog = "/var/log/gunicorn/access.log"
errorlog = "/var/log/gunicorn/error.log"

# The error log goes both to its file and to stderr (= the journal), so either
# `tail /var/log/gunicorn/error.log` or `journalctl -u gunicorn` shows lines like
# "Worker (pid:N) was sent SIGKILL! Perhaps out of memory?". The access log
# (one line per request) only goes to its file.
_generic = {
    "format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
    "datefmt": "[%Y-%m-%d %H:%M:%S %z]",
    "class": "logging.Formatter",
}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {
            "level": "INFO",
            "handlers": ["error_file", "error_console"],
            "propagate": False,
            "qualname": "gunicorn.error",
        },
        "gunicorn.access": {
            "level": "INFO",
            "handlers": ["access_file"],
            "propagate": False,
            "qualname": "gunicorn.access",
        },
    },
    "handlers": {
        "error_file": {"class": "logging.FileHandler", "formatter": "generic", "filename": errorlog},
        "error_console": {"class": "logging.StreamHandler", "formatter": "generic", "stream": "ext://sys.stderr"},
        "access_file": {"class": "logging.FileHandler", "formatter": "access", "filename": accesslog},
    },
    "formatters": {
        "generic": _generic,
        "access": {"format": "%(message)s", "class": "logging.Formatter"},
    },
}
