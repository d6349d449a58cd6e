"""``bookgen serve``: the web edition on 127.0.0.1, rebuilt on every save, open tabs reloaded.

One worker thread builds (the first time, then after each change watchfiles reports in the
manuscript) and tells the open tabs through server-sent events (``/__bookgen/events``):

    reload   {"pages": [...]}            the pages whose files changed; a tab showing one reloads,
                                         keeping its scroll position (live.js)
    problem  {"message", "detail"}       the build failed: an overlay shows ``file:line:col: message``;
                                         the last good pages stay served
    ok       {}                          a build succeeded without changing a page: the overlay goes
    notice   {"message"}                 e.g. the PDF update is ready (--pdf)

Only HTML responses get the live-reload script; ``build/html/`` itself never contains it.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import queue
import re
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bookgen.errors import BookgenError, CheckFailedError
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions, Format
from bookgen.tools import template_dir

LIVE = "/__bookgen/"
Echo = Callable[[str], None]
# What editors and tools write beside the files they save, never the book: hidden files (.#x.md, .x.md.swp),
# backups (x.md~, x.md.bak, x.md.orig), temporaries (sed -i's sedAb12Cd, vim's 4913, Emacs's #x.md#, x.tmp).
_SCRATCH = re.compile(r"^(\..*|.*~|#.*#|sed[A-Za-z0-9]{6}|4913|.*\.(swp|swo|swx|swpx|tmp|temp|bak|orig|rej|part))$", re.IGNORECASE)


class Hub:
    """The open tabs' event queues and the last build's problem (sent to tabs that connect later)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queues: set[queue.Queue] = set()
        self.problem: dict | None = None

    def subscribe(self) -> queue.Queue:
        stream: queue.Queue = queue.Queue()
        with self.lock:
            self.queues.add(stream)
            if self.problem:
                stream.put(("problem", self.problem))
        return stream

    def unsubscribe(self, stream: queue.Queue) -> None:
        with self.lock:
            self.queues.discard(stream)

    def publish(self, event: str, data: dict) -> None:
        """Send ``event`` to every open tab; a problem is remembered until a build succeeds."""
        with self.lock:
            if event == "problem":
                self.problem = data
            elif event in ("reload", "ok"):
                self.problem = None
            for stream in self.queues:
                stream.put((event, data))


def _handler(site: Path, hub: Hub, stop: threading.Event) -> type[http.server.SimpleHTTPRequestHandler]:
    live_script = (template_dir() / "html" / "live.js").read_bytes()
    tag = f'<script src="{LIVE}live.js"></script>'.encode()
    placeholder = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>正在构建……</title></head>'
        "<body><main><p>正在构建网页版……</p></main></body></html>"
    ).encode()

    class Handler(http.server.SimpleHTTPRequestHandler):
        """Serves build/html/ without caching; HTML with the live-reload script; the event stream."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, format: str, *args) -> None:
            pass

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def send_body(self, body: bytes, content_type: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            if path == LIVE + "events":
                return self.events()
            if path == LIVE + "live.js":
                return self.send_body(live_script, "text/javascript; charset=utf-8")
            file = Path(self.translate_path(self.path))
            if file.is_dir():
                file = file / "index.html"
            if file.suffix == ".html" and file.is_file():
                return self.send_body(file.read_bytes().replace(b"</body>", tag + b"</body>"), "text/html; charset=utf-8")
            if path in ("/", "/index.html"):  # nothing built yet: a page that shows the build's problem or reloads
                return self.send_body(placeholder.replace(b"</body>", tag + b"</body>"), "text/html; charset=utf-8")
            return super().do_GET()

        def events(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            stream = hub.subscribe()
            try:
                self.wfile.write(b"retry: 500\n\n")
                while not stop.is_set():
                    try:
                        event, data = stream.get(timeout=1.0)
                        self.wfile.write(f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode())
                    except queue.Empty:
                        self.wfile.write(b": still here\n\n")
                    self.wfile.flush()
            except OSError:
                pass  # the tab was closed
            finally:
                hub.unsubscribe(stream)

    return Handler


def _stamps(site: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in site.glob("*.html")}


class Rebuilder:
    """Builds the web edition (and with ``pdf`` the PDF after it) and tells the tabs what changed."""

    def __init__(self, options: BuildOptions, hub: Hub, echo: Echo, pdf: bool):
        self.options, self.hub, self.echo, self.pdf = options, hub, echo, pdf
        self.site = options.output / "html"

    def __call__(self) -> None:
        before = _stamps(self.site)
        started = time.monotonic()
        try:
            build(self.options)
        except CheckFailedError as error:  # build's message offers --no-check, which serve has not
            return self.failed("the check found errors; fix them and save (bookgen check --fix fixes some)", error.detail or "")
        except BookgenError as error:
            return self.failed(str(error), error.detail or "")
        except Exception as error:
            return self.failed(f"bookgen failed: {error!r}", "")
        changed = sorted(name for name, stamp in _stamps(self.site).items() if before.get(name) != stamp)
        self.hub.publish("reload", {"pages": changed}) if changed else self.hub.publish("ok", {})
        self.echo(f"built in {time.monotonic() - started:.2f} s: {len(changed)} pages changed" if changed else "nothing changed")
        if self.pdf:
            self.update_pdf()

    def failed(self, message: str, detail: str) -> None:
        """A failed build: the overlay in the tabs and the terminal both show the message and the located
        problems (``detail``, one ``file:line:col: …`` a line)."""
        self.hub.publish("problem", {"message": message, "detail": detail})
        self.echo(f"error: {message}")
        for line in detail.splitlines():
            self.echo(f"  {line}")

    def update_pdf(self) -> None:
        """The PDF of the same manuscript (the chapter-level update when it can); says when it is ready."""
        started = time.monotonic()
        try:
            result = build(dataclasses.replace(self.options, formats=(Format.PDF,)))
        except BookgenError as error:
            self.echo(f"PDF: error: {error}")
            return
        report = result.outputs["pdf"]
        self.echo(f"PDF ready: {report.path} ({time.monotonic() - started:.1f} s)")
        self.hub.publish("notice", {"message": f"PDF 已更新：{report.path.name}"})


def watched(manuscript: Path, path: Path) -> bool:
    """Whether a change to ``path`` (in ``manuscript``) can change the book: not the scratch files editors and
    tools write (_SCRATCH), nor anything in a hidden directory (.git)."""
    folders = path.relative_to(manuscript).parts[:-1] if path.is_relative_to(manuscript) else ()
    return not _SCRATCH.match(path.name) and not any(folder.startswith(".") for folder in folders)


def serve(manuscript: Path, output: Path, port: int = 8000, open_browser: bool = False, pdf: bool = False, echo: Echo = print) -> None:
    """Build, serve ``output/html`` on 127.0.0.1:``port`` (0: any free port), rebuild on every change in
    ``manuscript`` until Ctrl-C. Raises BookgenError when the port is taken."""
    import watchfiles  # only this command watches files

    options = BuildOptions(manuscript=manuscript, output=output, formats=(Format.HTML,))
    (output / "html").mkdir(parents=True, exist_ok=True)
    hub, stop = Hub(), threading.Event()
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(output / "html", hub, stop))
    except OSError as error:
        raise BookgenError(f"cannot serve on 127.0.0.1:{port} ({error.strerror}); choose another port with --port") from None
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    rebuild = Rebuilder(options, hub, echo, pdf)

    root = manuscript.resolve()  # watchfiles reports absolute paths

    def work() -> None:
        rebuild()
        for changes in watchfiles.watch(
            manuscript,
            watch_filter=lambda _, path: watched(root, Path(path)),
            stop_event=stop,
            step=20,
            debounce=400,
            raise_interrupt=False,
        ):
            names = ", ".join(sorted({Path(path).name for _, path in changes}))
            echo(f"changed: {names}")
            rebuild()

    worker = threading.Thread(target=work, name="bookgen-serve-builds", daemon=True)
    echo(f"serving {url} (Ctrl-C stops)")
    worker.start()
    if open_browser:
        webbrowser.open(url)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        worker.join(timeout=60)  # a build in progress finishes, so no file is left half-written
        echo("stopped")
