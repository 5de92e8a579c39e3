"""The HTTP side of a served twin: Prometheus' ``/metrics``, a JSON snapshot at ``/state.json`` and a
live page at ``/`` that polls the snapshot every second (no Grafana needed).

One threaded server answers all three from the :class:`~aidc.telemetry.exporter.TwinCollector` the
twin updates after each step.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from aidc.telemetry.exporter import TwinCollector

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>aidc live</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:auto}td,th{padding:2px 10px;text-align:right}
td:first-child{white-space:nowrap}
th:first-child,td:first-child{text-align:left}#spark{width:100%;height:80px;border:1px solid #ccc}</style>
</head><body><h1>aidc live: <span id="name"></span></h1>
<p>run time <b id="t">–</b> s · PUE <b id="pue">–</b> · facility <b id="facility">–</b> kW ·
IT <b id="it">–</b> kW · outdoor <b id="outdoor">–</b> °C · updated <span id="age">–</span></p>
<svg id="spark" viewBox="0 0 300 80" preserveAspectRatio="none"><polyline id="line" fill="none"
stroke="#1f77b4" stroke-width="1.5" points=""/></svg>
<p style="color:#666">facility power over the last 300 updates</p>
<table id="halls"><thead><tr><th>hall</th><th>GPUs</th><th>GPU max [°C]</th><th>GPU mean [°C]</th>
<th>GPU power [kW]</th><th>mean clock [MHz]</th><th>shut down</th><th>supply air [°C]</th>
<th>liquid supply [°C]</th></tr></thead><tbody></tbody></table>
<script>
const history = [];
function cell(v, d) { return v === null || v === undefined ? "–" : Number(v).toFixed(d); }
async function poll() {
  const asked = performance.now();
  try {
    const r = await fetch("state.json", {cache: "no-store"});
    if (r.status !== 200) return;
    const s = await r.json();
    if (s === null) return;  // the twin has not stepped yet
    document.getElementById("name").textContent = s.name;
    document.getElementById("t").textContent = cell(s.t_s, 0);
    document.getElementById("pue").textContent = cell(s.pue, 3);
    document.getElementById("facility").textContent = cell(s.facility_kw, 1);
    document.getElementById("it").textContent = cell(s.it_kw, 1);
    document.getElementById("outdoor").textContent = cell(s.dry_bulb_c, 1);
    document.getElementById("age").textContent = new Date().toLocaleTimeString();
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    document.body.dataset.runTime = String(s.t_s);
    const rows = s.halls.map(h => "<tr><td>" + [h.name, h.gpus, cell(h.gpu_temp_max_c, 1),
      cell(h.gpu_temp_mean_c, 1), cell(h.gpu_kw, 1), cell(h.clock_mean_mhz, 0), h.shut_down,
      cell(h.supply_air_c, 1), cell(h.liquid_supply_c, 1)].join("</td><td>") + "</td></tr>");
    document.querySelector("#halls tbody").innerHTML = rows.join("");
    history.push(s.facility_kw); if (history.length > 300) history.shift();
    const lo = Math.min(...history), hi = Math.max(...history), span = Math.max(hi - lo, 1e-9);
    const step = 300 / Math.max(history.length - 1, 1);
    const points = history.map((v, i) => (i * step) + "," + (78 - 76 * (v - lo) / span));
    document.getElementById("line").setAttribute("points", points.join(" "));
    document.body.dataset.latencyMs = (performance.now() - asked).toFixed(1);  // fetch and draw
  } catch (e) { /* the twin may be starting: the next poll tries again */ }
}
poll(); setInterval(poll, 1000);
</script></body></html>"""


def _handler(collector: TwinCollector, registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
            elif path == "/state.json":
                state = collector.snapshot()  # null before the first step: the page waits
                self._send(200, "application/json", json.dumps(state).encode())
            elif path in ("/", "/index.html"):
                self._send(200, "text/html; charset=utf-8", PAGE.encode())
            elif path == "/favicon.ico":
                self._send(204, "image/x-icon", b"")  # none: browsers ask for one
            else:
                self._send(404, "text/plain", b"not found: /, /state.json, /metrics\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the CLI prints what matters

    return Handler


def start_live_server(
    collector: TwinCollector, address: str, port: int
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve ``/``, ``/state.json`` and ``/metrics`` from ``collector`` in a daemon thread
    (``port`` 0: any free one). ``OSError`` if the address cannot be bound."""
    registry = CollectorRegistry()
    registry.register(collector)
    server = ThreadingHTTPServer((address, port), _handler(collector, registry))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="aidc-live", daemon=True)
    thread.start()
    return server, thread
