"""Headless Chromium (Debian's ``chromium``) driven over its DevTools protocol, for tests that
look at what people see: the digests (tests/alerts) and the public results page (tests/results).
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

MEASURE = """JSON.stringify({viewport: window.innerWidth,
    scroll: document.documentElement.scrollWidth,
    imgs: [...document.images].map(i => Math.round(i.getBoundingClientRect().width)),
    loaded: [...document.images].every(i => i.complete && i.naturalWidth > 0)})"""


def require_chromium() -> None:
    """Skip with the reason when Chromium is absent; fail under CI=true (.ci/run installs it)."""
    if Path(CHROMIUM).is_file():
        return
    reason = f"headless Chromium not found at {CHROMIUM}: install it (scripts/install_test_browser.sh)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


class DevTools:
    """Headless Chromium driven over its DevTools protocol: a real phone viewport (Chromium's
    --window-size stops at 500 px wide; device metrics emulation does not), the page measured
    after its load event, and a full-page screenshot."""

    def __init__(self, profile: Path) -> None:
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        url, seen = "", []
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 60
        while not url and time.monotonic() < deadline and self.proc.poll() is None:
            ready, _, _ = select.select([self.proc.stderr], [], [], 1.0)
            line = self.proc.stderr.readline() if ready else ""
            seen.append(line)
            if "DevTools listening on " in line:
                url = line.split("DevTools listening on ", 1)[1].strip()
        if not url:
            self.proc.kill()
            self.proc.wait(timeout=30)
            raise AssertionError(f"Chromium opened no DevTools endpoint within 60 s: {''.join(seen)[-2000:]}")
        from websockets.sync.client import connect

        self.ws = connect(url, max_size=None, open_timeout=30)
        self.next_id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def call(self, method: str, session: str | None = None, **params: object) -> dict:
        self.next_id += 1
        message: dict = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv(timeout=60))
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                return reply["result"]

    def open(self, url: str, width: int, height: int) -> dict:
        """Load ``url`` at a viewport of width x height (a phone below 600 px) and measure it."""
        s = self.session
        self.call("Emulation.setDeviceMetricsOverride", s, width=width, height=height,
                  deviceScaleFactor=1, mobile=width < 600)
        self.call("Page.enable", s)
        self.call("Page.navigate", s, url=url)
        while True:
            event = json.loads(self.ws.recv(timeout=60))
            if event.get("method") == "Page.loadEventFired" and event.get("sessionId") == s:
                break
        found = self.call("Runtime.evaluate", s, expression=MEASURE, returnByValue=True)
        return json.loads(found["result"]["value"])

    def screenshot(self, path: Path) -> None:
        s = self.session
        size = self.call("Page.getLayoutMetrics", s)["cssContentSize"]
        shot = self.call("Page.captureScreenshot", s, format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)
