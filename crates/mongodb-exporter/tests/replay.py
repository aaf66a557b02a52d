"""Replays real captured MongoDB replies (Percona's Go-JSON test data, turned back into BSON)
through mockupdb, a wire-protocol server: usage replay.py PORT FIXTURE.json [namespaces]
[commands] [no-status-in-data] (PORT 0: a free port, which the "listening on port N" line
names).

With `namespaces`, it also answers listDatabases (databases app and shop) and
listCollections (two collections each), printing a line for every listCollections it
answers, so a test can count how often the exporter enumerates collections. With `commands`, it
prints `command NAME` for every command it receives, before answering it.

Every request gets an answer at once, as a real server gives one: the capture's replies,
`find` results derived from it, or, for a command the capture cannot answer, the error a
server without it gives (CommandNotFound), printed as `not in the capture: NAME`. A request
left unanswered would stall the driver until its own timeout on every scrape.
VIGIE_REPLAY_VERBOSE=1 prints every request and reply (mockupdb's verbose mode)."""
import datetime
import json
import os
import re
import sys

from bson.int64 import Int64
from bson.timestamp import Timestamp
from mockupdb import MockupDB, OpMsg

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def to_bson(v):
    if isinstance(v, dict):
        if set(v) == {"T", "I"}:
            return Timestamp(v["T"], v["I"])
        return {k: to_bson(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_bson(x) for x in v]
    if isinstance(v, str) and DATE.match(v):
        return datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    return v


port, path = int(sys.argv[1]), sys.argv[2]
with open(path) as f:
    data = to_bson(json.load(f))
hello = {"maxWireVersion": 17, "minWireVersion": 0, "ismaster": True, "isWritablePrimary": True,
         "helloOk": True, "maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000,
         "maxWriteBatchSize": 100000, "logicalSessionTimeoutMinutes": 30, "connectionId": 1,
         "readOnly": False}
s = MockupDB(port=port, auto_ismaster=hello, verbose=os.environ.get("VIGIE_REPLAY_VERBOSE") == "1")
NOT_FOUND = {"ok": 0, "errmsg": "not in the capture", "code": 59, "codeName": "CommandNotFound"}


def last_resort(r):
    # Any command nothing below answers (replSetGetConfig, buildInfo, top, listDatabases,
    # endSessions…): the capture does not hold it; answered as a server without it would.
    print("not in the capture:", r.command_name, flush=True)
    return r.replies(NOT_FOUND)


s.append_responder(last_resort)
# The drivers' monitors poll with `hello` once the first isMaster reply says helloOk.
s.autoresponds("hello", hello)

# The oplog's newest and oldest entries, derived from the capture: the newest is the primary's
# appliedOpTime; the oldest is the set's initiating entry (oplogTruncation.truncateCount 0: the
# oplog never lost an entry), the op the member had last seen when it won the set's first
# election (electionCandidateMetrics.lastSeenOpTimeAtElection, term -1).
status = data.get("replSetGetStatus", {})
oplog_ends = {-1: status.get("optimes", {}).get("appliedOpTime", {}).get("ts"),
              1: status.get("electionCandidateMetrics", {}).get("lastSeenOpTimeAtElection", {}).get("ts")}


def find(r):
    # Collections the capture says nothing about (config.version on a replica set that is no
    # shard: none) give an empty result, as a find on a missing collection does.
    db, coll = r.doc.get("$db", ""), r.doc["find"]
    batch = []
    if (db, coll) == ("local", "oplog.rs"):
        ts = oplog_ends.get((r.doc.get("sort") or {}).get("$natural", 1))
        batch = [{"ts": ts}] if ts is not None else []
    return r.ok(cursor={"id": Int64(0), "ns": f"{db}.{coll}", "firstBatch": batch})


s.autoresponds(lambda r: r.command_name == "find" and find(r))
s.autoresponds("ping")
# With `no-status-in-data`, getDiagnosticData leaves its replSetGetStatus out (as a server
# whose diagnostic data lacks it would) while the command still answers.
s.autoresponds("getDiagnosticData", data={k: v for k, v in data.items()
                                          if k != "replSetGetStatus" or "no-status-in-data" not in sys.argv[3:]})
s.autoresponds("serverStatus", **data.get("serverStatus", {}))
s.autoresponds("replSetGetStatus", **data.get("replSetGetStatus", {"ok": 0, "code": 76}))
s.autoresponds("getCmdLineOpts", parsed={}, argv=[])
if "namespaces" in sys.argv[3:]:
    s.autoresponds("listDatabases", databases=[{"name": n, "sizeOnDisk": 1, "empty": False}
                                               for n in ("admin", "app", "shop")], totalSize=3)

    def list_collections(r):
        db = r.doc.get("$db", "")
        print("listCollections", db, flush=True)
        batch = [{"name": c, "type": "collection", "options": {}, "info": {"readOnly": False}}
                 for c in ("orders", "users")]
        # The cursor id must be an int64: the Rust driver waits for more on an int32 0.
        return r.ok(cursor={"id": Int64(0), "ns": db + ".$cmd.listCollections", "firstBatch": batch})

    s.autoresponds("listCollections", list_collections)
if "commands" in sys.argv[3:]:
    # Registered last, asked first; answers nothing, so the responders above still answer.
    s.autoresponds(lambda r: print("command", r.command_name, flush=True) and False)
# Port 0: the kernel picks a free one; the line below says which.
print("listening on port", s.run(), flush=True)
import time
while True:
    time.sleep(3600)
