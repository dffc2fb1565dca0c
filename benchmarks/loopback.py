"""What the browser benchmarks share: Debian's Chromium, a `streamlit run` on loopback, the first-curve probe."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# True once any chart draws a loss/norm line with at least two epochs.
FIRST_CURVE_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].some(el => (el._fullData || [])
    .some(t => t.meta && t.meta.role === 'line' && t.x && t.x.length >= 2))"""


def start_server(app: str = "app.py", cwd: Path = ROOT, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Serve `app` on a free loopback port; return the process and its URL once it listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("streamlit did not start")
