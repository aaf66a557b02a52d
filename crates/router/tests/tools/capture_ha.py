#!/usr/bin/env python3
"""Capture what two clustered Alertmanagers POST to a webhook receiver, in HA scenarios.

    capture.py OUTDIR

Starts a recording receiver and two Alertmanager 0.25 peers clustered on loopback, then:
  1. normal:  the same alert posted to both peers -> normally one webhook (peer 0).
  2. slow:    the receiver takes 4 s to answer (> --cluster.peer-timeout=1s) -> both post.
  3. stale:   after a firing group was notified, the alert is resolved on peer 0 only (the
              path from Prometheus to peer 1 is cut): peer 0 posts "resolved", then peer 1,
              still holding the alert as firing, posts "firing" (alertmanager #2447).
Each POST is saved byte for byte as NNN-<scenario>-<peer>.json with its headers beside it.
"""
import http.server, json, os, socket, subprocess, sys, tempfile, threading, time, urllib.request

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
STATE = {"scenario": "normal", "delay": 0.0, "n": 0}
LOCK = threading.Lock()


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        t = time.time()
        with LOCK:
            STATE["n"] += 1
            n, scen, delay = STATE["n"], STATE["scenario"], STATE["delay"]
        doc = json.loads(body)
        peer = "am0" if doc["externalURL"].endswith(str(AM[0]["web"])) else "am1"
        name = f"{n:03d}-{scen}-{peer}-{doc['status']}"
        with open(os.path.join(OUT, name + ".json"), "wb") as f:
            f.write(body)
        with open(os.path.join(OUT, name + ".request-headers.json"), "w") as f:
            json.dump({"t": t, "path": self.path, "headers": dict(self.headers)}, f, indent=1)
        print(f"{t:.3f} {name}", flush=True)
        time.sleep(delay)
        self.send_response(200); self.end_headers()

    def log_message(self, *a):
        pass


RPORT = free_port()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", RPORT), Receiver)
threading.Thread(target=srv.serve_forever, daemon=True).start()

tmp = tempfile.mkdtemp(prefix="vigie-ha-")
cfg = os.path.join(tmp, "alertmanager.yml")
with open(cfg, "w") as f:
    f.write(f"""route:
  receiver: vigie
  group_by: ['alertname', 'instance']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: vigie
    webhook_configs:
      - url: http://127.0.0.1:{RPORT}/api/v1/alertmanager
        send_resolved: true
""")
AM = [{"web": free_port(), "cluster": free_port()} for _ in range(2)]
procs = []
for i, am in enumerate(AM):
    other = AM[1 - i]
    log = open(os.path.join(tmp, f"am{i}.log"), "w")
    procs.append(subprocess.Popen([
        "prometheus-alertmanager", f"--config.file={cfg}", f"--storage.path={tmp}/data{i}",
        f"--web.listen-address=127.0.0.1:{am['web']}", f"--web.external-url=http://127.0.0.1:{am['web']}",
        f"--cluster.listen-address=127.0.0.1:{am['cluster']}", f"--cluster.peer=127.0.0.1:{other['cluster']}",
        "--cluster.peer-timeout=1s", "--cluster.gossip-interval=50ms", "--cluster.pushpull-interval=1s",
        "--cluster.settle-timeout=1s", "--log.level=debug"], stdout=log, stderr=log))


def get(i, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{AM[i]['web']}{path}", timeout=2) as r:
        return json.loads(r.read() or b"null")


def post(i, alerts):
    req = urllib.request.Request(f"http://127.0.0.1:{AM[i]['web']}/api/v2/alerts", data=json.dumps(alerts).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=2).read()


for _ in range(200):
    try:
        if all(len(get(i, "/api/v2/status")["cluster"]["peers"]) == 2 for i in range(2)):
            break
    except Exception:
        pass
    time.sleep(0.1)
else:
    sys.exit("peers did not form a cluster")
print("cluster ready", [get(i, "/api/v2/status")["cluster"]["name"] for i in range(2)], flush=True)
time.sleep(2)


def alert(name, starts, ends=None):
    a = {"labels": {"alertname": name, "instance": "db-1:9104", "job": "mysql", "severity": "critical",
                    "service": "mysql"},
         "annotations": {"summary": f"{name} on db-1"}, "startsAt": starts,
         "generatorURL": "http://prometheus.example:9090/graph?g0.expr=mysql_up"}
    if ends:
        a["endsAt"] = ends
    return a


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def scenario(name, delay=0.0):
    with LOCK:
        STATE["scenario"], STATE["delay"] = name, delay
    print("--", name, flush=True)


# 1. normal: both peers get the alert (as Prometheus sends to every Alertmanager).
scenario("normal")
s1 = now()
for i in range(2):
    post(i, [alert("MysqlDown", s1)])
time.sleep(5)
for i in range(2):
    post(i, [alert("MysqlDown", s1, now())])
time.sleep(5)

# 2. slow receiver: answers after 4 s, longer than peer 0's notification takes to be gossiped.
scenario("slow", 4.0)
s2 = now()
for i in range(2):
    post(i, [alert("MysqlReplicationLag", s2)])
time.sleep(12)
scenario("slow-resolve", 4.0)
for i in range(2):
    post(i, [alert("MysqlReplicationLag", s2, now())])
time.sleep(12)

# 3. stale: notified firing; then resolved on peer 0 only; peer 1 still holds it firing.
scenario("stale")
s3 = now()
for i in range(2):
    post(i, [alert("MysqlTooManyConnections", s3)])
time.sleep(5)
scenario("stale-partition")
post(0, [alert("MysqlTooManyConnections", s3, now())])
time.sleep(8)
scenario("stale-heal")
post(1, [alert("MysqlTooManyConnections", s3, now())])
time.sleep(8)

for p in procs:
    p.terminate()
for p in procs:
    p.wait()
srv.shutdown()
print("done; Alertmanager logs in", tmp)
