"""Serving the gateway with waitress (a pure-Python production WSGI server: threads, keep-alive, no
fork, runs the same on every platform): `serve(app, host, port)` blocks, `Server` runs it in a thread."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["Server", "serve"]

THREADS = 8  # requests served at once; each one waits at most for one vendor answer, never for a budget


def serve(app: WSGIApplication, host: str = "127.0.0.1", port: int = 8000, threads: int = THREADS) -> None:
    """Serves `app` until interrupted."""
    from waitress import serve as waitress_serve

    waitress_serve(app, host=host, port=port, threads=threads, ident="staffbridge")


class Server:
    """`app` served on `host` in a background thread (tests, embedding); `port` 0 picks a free one.

    with Server(app) as server:
        requests.get(f"{server.url}/healthz")
    """

    def __init__(self, app: WSGIApplication, host: str = "127.0.0.1", port: int = 0, threads: int = THREADS) -> None:
        from waitress.server import create_server

        self._server: Any = create_server(app, host=host, port=port, threads=threads, ident="staffbridge")
        self.port = int(self._server.effective_port)
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.run, name="staffbridge-serve", daemon=True)

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        from waitress import wasyncore

        self._server.task_dispatcher.shutdown()  # its threads done first: none writes to a closed socket
        # the sockets are closed by the loop's own thread (between two polls, never under one), which
        # then finds nothing left to serve and returns
        try:
            self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
        except OSError:  # the trigger is closed already (seen now and then in test runs): close from here
            wasyncore.close_all(self._server._map, ignore_all=True)
        self._thread.join(timeout=5)
