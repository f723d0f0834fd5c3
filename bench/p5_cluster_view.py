"""P5: the Cluster place with 1,000 pods and 100 nodes (kmock API server in another process).

Measures, inside a headless Textual app running the real ClusterScreen:
  * LIST to filled table: from the moment the API client exists (LIST requests go out) to all
    1,000 pod rows in the table and painted; the client's creation (importing ``kubernetes``,
    reading the kubeconfig) is reported separately as ``connect_s``;
  * event to screen: a pod is PATCHed over HTTP at the API server; time until its cell shows the
    new value (N samples, p50/p95/max);
  * resident memory (VmRSS) of the console process (the API server runs elsewhere).
Goals: <= 0.5 s, p95 <= 100 ms, <= 150 MiB.   Usage: python bench/p5_cluster_view.py [--events 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def patch_pod(url: str, name: str, restarts: int) -> None:
    body = json.dumps({"status": {"containerStatuses": [{"name": "triton", "ready": True, "restartCount": restarts,
                                                         "image": "x", "imageID": "y", "state": {"running": {}}}]}}).encode()
    request = urllib.request.Request(f"{url}/api/v1/namespaces/triton-vllm/pods/{name}", data=body, method="PATCH",
                                     headers={"Content-Type": "application/merge-patch+json"})
    urllib.request.urlopen(request, timeout=10).read()


async def measure(url: str, pods: int, events: int) -> dict:
    import yaml
    from textual.widgets import DataTable

    from console.core.config import Config
    from console.tui.app import TritonConsoleApp

    kubeconfig = Path(tempfile.mkdtemp()) / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "bench",
        "clusters": [{"name": "bench", "cluster": {"server": url}}], "users": [{"name": "bench", "user": {"token": "t"}}],
        "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "bench"}}]}))
    cfg = Config()
    cfg.kube.kubeconfig = str(kubeconfig)
    cfg.kube.port_forward = False
    app = TritonConsoleApp(cfg, start_place="cluster")
    result: dict = {}
    async with app.run_test(size=(200, 60)) as pilot:
        screen = app.screen
        table = screen.query_one("#pods-table", DataTable)
        deadline = time.perf_counter() + 60
        while screen.monitor is None and time.perf_counter() < deadline:
            await asyncio.sleep(0.001)
        connected = time.perf_counter()  # client built (kubernetes imported), LIST requests go out now
        watcher = screen.monitor.watchers["pods"]
        while not watcher.synced.is_set() and time.perf_counter() < deadline:
            await asyncio.sleep(0.001)
        listed = time.perf_counter()
        while table.row_count < pods and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)
        await pilot.pause()  # the idle pass that sizes columns and paints
        filled = time.perf_counter()
        result["connect_s"] = round(connected - screen.connect_started, 3)
        result["list_s"] = round(listed - connected, 3)
        result["table_fill_s"] = round(filled - listed, 3)
        result["list_to_table_s"] = round(filled - connected, 3)
        result["connect_to_table_s"] = round(filled - screen.connect_started, 3)
        result["rows"] = table.row_count
        await pilot.pause(0.5)
        latencies = []
        for i in range(events):
            name = f"triton-vllm-5d9c7b8f6d-{(i * 37) % pods:05d}"
            wanted = str(1000 + i)
            started = time.perf_counter()
            await asyncio.to_thread(patch_pod, url, name, 1000 + i)
            while str(table.get_cell(name, "restarts")) != wanted:
                if time.perf_counter() - started > 10:
                    raise RuntimeError(f"event {i} never reached the screen")
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
        latencies.sort()
        result["event_to_screen_ms"] = {"p50": round(1000 * statistics.median(latencies), 1),
                                        "p95": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1),
                                        "max": round(1000 * latencies[-1], 1), "n": len(latencies)}
        result["rss_mib"] = round(rss_mib(), 1)
        result["redraws"] = screen.redraws
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "kube_server.py"), str(args.nodes), str(args.pods)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        result = asyncio.run(measure(url, args.pods, args.events))
    finally:
        server.stdin.close()
        server.wait(30)
    result.update(nodes=args.nodes, pods=args.pods)
    print(json.dumps(result, indent=2))
    ok = result["list_to_table_s"] <= 0.5 and result["event_to_screen_ms"]["p95"] <= 100 and result["rss_mib"] <= 150
    print("P5 goals met" if ok else "P5 goals NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
