"""A small real HTTP server on loopback that answers Prometheus HTTP API calls with recorded JSON.

It stands in for the cluster's Prometheus, which cannot run here. It answers what the console
asks: ``/api/v1/query`` (the reachability probe ``vector(1)`` and the series selector) and
``/api/v1/query_range``; anything else gets Prometheus' error shape with HTTP 400.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "prometheus"


class PrometheusStandIn:
    def __init__(self, fixtures: Path = FIXTURES) -> None:
        self.fixtures = fixtures
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.authorizations: list[str | None] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urllib.parse.urlparse(self.path)
                params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
                standin.requests.append((url.path, params))
                standin.authorizations.append(self.headers.get("Authorization"))
                status, body = standin.answer(url.path, params)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def recorded(self, name: str) -> dict:
        return json.loads((self.fixtures / name).read_text())

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict]:
        query = params.get("query", "")
        if path == "/api/v1/query" and query == "vector(1)":
            return 200, {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [0, "1"]}]}}
        if "__name__=~" in query and "vllm:" in query:
            if path == "/api/v1/query":
                return 200, self.recorded("query.json")
            if path == "/api/v1/query_range" and {"start", "end", "step"} <= params.keys():
                return 200, self._within(self.recorded("query_range.json"), float(params["start"]), float(params["end"]))
        return 400, self.recorded("error.json")

    @staticmethod
    def _within(answer: dict, start: float, end: float) -> dict:
        """Like Prometheus, only the points between start and end (series left empty dropped)."""
        result = []
        for series in answer["data"]["result"]:
            values = [v for v in series["values"] if start <= v[0] <= end]
            if values:
                result.append({**series, "values": values})
        return {**answer, "data": {**answer["data"], "result": result}}

    def __enter__(self) -> PrometheusStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
