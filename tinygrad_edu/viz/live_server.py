"""The live page's server: the standard library's `ThreadingHTTPServer`, on loopback only.

    GET  /                the page (its CSS and script inlined, as the step-through page is)
    GET  /favicon.svg     its icon (also at /favicon.ico), so the browser asks the network for nothing
    GET  /state?since=K&frame=F&points=V   the controls, the losses from step K on, and the frame and
                          the points when they are newer than F and V (the page polls this)
    POST /control         one command as JSON: {"action": "pause"} ... (see `live_data.read_command`)

A page on another site must not steer training through the learner's browser (DNS rebinding), so
every request must carry `Host: 127.0.0.1:PORT` or `localhost:PORT`, and an `Origin`, when sent,
must be that same address; anything else gets 403. Every request runs in its own thread and reads
only the frame the training thread last published, so a slow or closed tab never holds up training.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import ArgumentError
from .live_data import MAX_BODY, RateLimit, read_command
from .live_html import favicon, live_page
from .live_session import Session

HOST = "127.0.0.1"


class LiveServer(ThreadingHTTPServer):
    daemon_threads = True  # a tab left open never keeps the process alive
    allow_reuse_address = True

    def __init__(self, session: Session, port: int = 0, title: str = "Watch it learn") -> None:
        try:
            super().__init__((HOST, port), _Handler)
        except OSError as error:
            raise ArgumentError(
                f"live: cannot serve on {HOST}:{port} ({error.strerror}); pass another port, or 0 for any free one"
            ) from None
        self.session = session
        self.title = title
        self.port = self.server_address[1]
        self.allowed_hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self.edits = RateLimit()
        self.last_poll = -1e9  # when a page last asked for the state (time.monotonic)
        self.told_stopped = threading.Event()  # a page has heard that training has ended
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; a page that was polling first hears that training has ended, so it stops asking."""
        if time.monotonic() - self.last_poll < 2.0:
            self.told_stopped.wait(0.5)
        self.shutdown()
        self.server_close()

    def state(self, since: int, frame: int, points: int) -> dict[str, Any]:
        """What the page polls: always the controls; the losses it lacks; the frame and points when newer."""
        session = self.session
        self.last_poll = time.monotonic()
        with session.lock:
            state = session.status()
            state["stopped"] = session.stopping
            since = min(max(since, 0), len(session.losses))
            state["since"] = since
            state["losses"] = session.losses[since:]
            if session.frame["id"] != frame:
                state["frame"] = session.frame
            if session.points.version != points or points < 0:
                state["points"] = session.points.as_list()
        if state["stopped"]:
            self.told_stopped.set()
        return state


class _Handler(BaseHTTPRequestHandler):
    server: LiveServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
        pass  # the terminal shows training, not a line per request

    def _allowed(self) -> bool:
        host = self.headers.get("Host", "")
        origin = self.headers.get("Origin")
        allowed = self.server.allowed_hosts
        if host not in allowed or (origin is not None and origin not in {f"http://{h}" for h in allowed}):
            self._send(403, "text/plain; charset=utf-8", b"forbidden: this page is served to 127.0.0.1 only\n")
            return False
        return True

    def _send(self, code: int, kind: str, body: bytes) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the tab went away; training goes on

    def _json(self, code: int, data: Any) -> None:
        self._send(code, "application/json", json.dumps(data, allow_nan=False).encode("utf-8"))

    def do_GET(self) -> None:
        if not self._allowed():
            return
        url = urlsplit(self.path)
        if url.path == "/":
            page = live_page(self.server.title, {"mode": "live", "meta": self.server.session.meta()})
            self._send(200, "text/html; charset=utf-8", page.encode("utf-8"))
        elif url.path in ("/favicon.svg", "/favicon.ico"):
            self._send(200, "image/svg+xml", favicon())
        elif url.path == "/state":
            query = parse_qs(url.query)
            try:
                since, frame, points = (int(query.get(k, ["-1"])[0]) for k in ("since", "frame", "points"))
            except ValueError:
                self._json(400, {"error": "since, frame and points must be whole numbers"})
                return
            self._json(200, self.server.state(since, frame, points))
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found\n")

    def do_POST(self) -> None:
        if not self._allowed():
            return
        if urlsplit(self.path).path != "/control":
            self._send(404, "text/plain; charset=utf-8", b"not found\n")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            self._json(411, {"error": "a command needs a Content-Length"})
            return
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # do not read a body that large
            self._json(413, {"error": f"the request is {length} bytes; a command is at most {MAX_BODY}"})
            return
        body = self.rfile.read(length)
        session = self.server.session
        try:
            command = read_command(body, session.box, session.points.n_classes)
            if command["action"] in ("add", "delete") and not self.server.edits.allow():
                self._json(429, {"error": "too many points at once: at most 20 a second"})
                return
            message = session.command(command)
        except ArgumentError as error:
            self._json(400, {"error": str(error)})
            return
        with session.lock:
            status = session.status()
        self._json(200, {"ok": True, "message": message, **status})
