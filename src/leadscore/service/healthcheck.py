"""Container health check: `python -m leadscore.service.healthcheck [PATH]` exits 0 on HTTP 200.

Slim images have no curl; this asks the running service on LEADSCORE_HTTP_PORT instead.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from leadscore.errors import LeadscoreError
from leadscore.settings import load_settings

TIMEOUT_SECONDS = 3.0


def probe(path: str = "/healthz") -> int:
    """GET http://127.0.0.1:<http_port><path>; 0 when it answers 200, else 1 with one line."""
    try:
        port = load_settings().http_port
    except LeadscoreError as exc:
        print(f"unhealthy: {exc.message}", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"unhealthy: {url}: {reason}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"unhealthy: {url} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(probe(*sys.argv[1:2]))
