#!/usr/bin/python3
"""How often Alertmanager re-sends the Watchdog with the stack's own route (issue 19).

    crates/router/tests/tools/watchdog_cadence.py [--posts N] [--group-interval D --repeat-interval D]

Reads alertmanager/alertmanager.yml, keeps its Watchdog route (optionally with other
group_interval/repeat_interval values, to compare), points the receiver at a loopback
recorder, starts Debian's prometheus-alertmanager (0.25) on free loopback ports, posts one
Watchdog alert as Prometheus does, waits for N webhooks and prints the gaps between them.
The router's heartbeat `interval` must be at least the gap printed here. Takes about
N × the gap (3 posts ≈ 2 minutes with the shipped route).
"""
import argparse
import datetime
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=3)
    ap.add_argument("--group-interval")
    ap.add_argument("--repeat-interval")
    args = ap.parse_args()
    if not shutil.which("prometheus-alertmanager"):
        print("skipped: prometheus-alertmanager not installed (apt-get install prometheus-alertmanager)")
        return 0
    with open(os.path.join(ROOT, "alertmanager", "alertmanager.yml")) as f:
        cfg = yaml.safe_load(f)
    route = next(r for r in cfg["route"]["routes"] if 'alertname="Watchdog"' in r.get("matchers", []))
    if args.group_interval:
        route["group_interval"] = args.group_interval
    if args.repeat_interval:
        route["repeat_interval"] = args.repeat_interval
    posts, done = [], threading.Event()

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if any(a["labels"].get("alertname") == "Watchdog" for a in body["alerts"]):
                posts.append(time.monotonic())
                if len(posts) >= args.posts:
                    done.set()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Recorder)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    for r in cfg["receivers"]:
        for w in r.get("webhook_configs", []):
            w["url"] = f"http://127.0.0.1:{hook.server_port}/api/v1/alertmanager"
            w.pop("http_config", None)
    work = tempfile.mkdtemp(prefix="watchdog-cadence.")
    am_port = free_port()
    with open(os.path.join(work, "am.yml"), "w") as f:
        yaml.safe_dump(cfg, f)
    am = subprocess.Popen(
        ["prometheus-alertmanager", f"--config.file={work}/am.yml", f"--storage.path={work}/data",
         f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "am.log"), "w"))
    try:
        base = f"http://127.0.0.1:{am_port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/-/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        # As Prometheus sends it: endsAt a few evaluation intervals ahead (here: beyond the run).
        ends = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        alert = [{"labels": {"alertname": "Watchdog", "prometheus": "vigie", "severity": "info", "level": "1"}, "endsAt": ends}]
        req = urllib.request.Request(f"{base}/api/v2/alerts", data=json.dumps(alert).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5)
        t0 = time.monotonic()
        if not done.wait(timeout=args.posts * 150):
            print(f"FAIL: {len(posts)} of {args.posts} posts; Alertmanager log in {work}/am.log")
            return 1
        gaps = [b - a for a, b in zip(posts, posts[1:])]
        print(f"route: group_interval {route['group_interval']}, repeat_interval {route['repeat_interval']}")
        print(f"first post after {posts[0] - t0:.2f} s; gaps between posts: " + ", ".join(f"{g:.2f} s" for g in gaps))
        return 0
    finally:
        am.terminate()
        am.wait(timeout=10)
        hook.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
