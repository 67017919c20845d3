"""The host pages on a loopback origin of their own, as a customer's site embeds the picker (or
another tus client): harness/pages/*.html by name, with {{STORE}} replaced by the store's URL,
tus-js-client's dist/ files at /vendor/tus-js-client/, and the files a test puts in `files`."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator

from . import ROOT, free_port

PAGES = ROOT / "harness" / "pages"
TUS_JS_PATH = "vendor/tus-js-client/"
TUS_JS_DIST = ROOT / "node_modules" / "tus-js-client" / "dist"


class HostPages(http.server.ThreadingHTTPServer):
    """Serves the host pages for a store at `store_url`; `url` is where."""

    daemon_threads = True

    def __init__(self, store_url: str) -> None:
        self.store_url = store_url
        self.files: dict[str, tuple[bytes, str]] = {}  # more files a test puts on the site: name -> (body, type)
        super().__init__(("127.0.0.1", free_port()), _HostPageHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _HostPageHandler(http.server.BaseHTTPRequestHandler):
    server: HostPages

    def do_GET(self) -> None:
        name = self.path.split("?")[0].lstrip("/") or "index.html"
        if name in self.server.files:
            body, content_type = self.server.files[name]
        elif name.startswith(TUS_JS_PATH):  # another tus client, as the page of a site using it would load it
            script = TUS_JS_DIST / name[len(TUS_JS_PATH):]
            if script.parent != TUS_JS_DIST or not script.is_file():
                self.send_error(404)
                return
            body, content_type = script.read_bytes(), "text/javascript; charset=utf-8"
        else:
            page = PAGES / name
            if page.parent != PAGES or not page.is_file() or page.suffix != ".html":
                self.send_error(404)
                return
            body = page.read_text().replace("{{STORE}}", self.server.store_url).encode()
            content_type = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def run_host_pages(store_url: str) -> Iterator[HostPages]:
    server = HostPages(store_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
