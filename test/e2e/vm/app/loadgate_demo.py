"""Minimal single-file Django app served by gunicorn inside the e2e VM.

Endpoints:
  /fast    returns at once (a few ms of Python work).
  /slow    like /fast plus a delay in ms read from DELAY_FILE on every request, so
           the test can make "this PR is slower" by writing the file over SSH,
           without restarting anything.
  /hungry  allocates and touches N MiB (N from HUNGRY_FILE, default 300) and holds
           it for HOLD_S seconds. A few concurrent requests exceed the 1 GiB guest,
           and without swap the kernel OOM-kills a gunicorn worker.
  ballast  /fast and /slow make every worker that serves them keep BALLAST_FILE's MiB
           (default 0) resident, so the test turns "this build's workers are 100 MB
           bigger" on and off by writing the file, without a restart.

No database, no installed apps: settings are configured inline.
"""

import os
import time

from django.conf import settings

CONF_DIR = os.environ.get("LOADGATE_DEMO_CONF", "/etc/loadgate-demo")
DELAY_FILE = os.path.join(CONF_DIR, "delay-ms")
HUNGRY_FILE = os.path.join(CONF_DIR, "hungry-mb")
HOLD_FILE = os.path.join(CONF_DIR, "hungry-hold-ms")
BALLAST_FILE = os.path.join(CONF_DIR, "ballast-mb")
DEFAULT_HUNGRY_MB = 300
DEFAULT_HOLD_MS = 750

settings.configure(
    DEBUG=False,
    SECRET_KEY="loadgate-e2e-not-a-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={},
    USE_TZ=True,
)

from django.core.wsgi import get_wsgi_application  # noqa: E402  (needs settings first)
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def _read_int(file_name, default):
    """Read an integer from a small file; any problem means the default."""
    try:
        with open(file_name, "r", encoding="ascii") as f:
            return int(f.read().strip() or default)
    except (OSError, ValueError):
        return default


_ballast = b""


def _hold_ballast():
    """Resize this worker's ballast to BALLAST_FILE's MiB; every byte written, so it is resident."""
    global _ballast
    size = max(0, _read_int(BALLAST_FILE, 0)) << 20
    if len(_ballast) != size:
        _ballast = b"\x02" * size


def fast(_request):
    _hold_ballast()
    return JsonResponse({"ok": True, "endpoint": "fast", "pid": os.getpid()})


def slow(_request):
    _hold_ballast()
    delay_ms = max(0, _read_int(DELAY_FILE, 0))
    if delay_ms:
        time.sleep(delay_ms / 1000.0)
    return JsonResponse({"ok": True, "endpoint": "slow", "delay_ms": delay_ms, "pid": os.getpid()})


def hungry(_request):
    mb = max(0, _read_int(HUNGRY_FILE, DEFAULT_HUNGRY_MB))
    hold_ms = max(0, _read_int(HOLD_FILE, DEFAULT_HOLD_MS))
    # bytes * n fills every byte (memset), so every page is really touched and
    # counts as anonymous RSS; a bare bytearray(n) could stay partly unfaulted.
    buf = b"\x01" * (mb << 20)
    time.sleep(hold_ms / 1000.0)
    size = len(buf)
    del buf
    return JsonResponse({"ok": True, "endpoint": "hungry", "mb": mb, "bytes": size, "pid": os.getpid()})


urlpatterns = [
    path("fast", fast),
    path("slow", slow),
    path("hungry", hungry),
]

application = get_wsgi_application()


def _warm_up():
    """Serve one /fast request at import time.

    gunicorn imports this module in the master (preload_app) before forking the
    workers, so the lazy imports and URL resolver caches a first request fills are
    then shared by every worker, also by one respawned after an OOM kill: a
    worker's first request is as fast as its hundredth.
    """
    import io
    import sys

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/fast",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    response = application(environ, lambda status, headers, exc_info=None: None)
    try:
        b"".join(response)
    finally:
        response.close()


_warm_up()
