"""Replays real captured MongoDB replies (Percona's Go-JSON test data, turned back into BSON)
through mockupdb, a wire-protocol server: usage replay.py PORT FIXTURE.json [namespaces].

With `namespaces`, it also answers listDatabases (databases app and shop) and
listCollections (two collections each), printing a line for every listCollections it
answers, so a test can count how often the exporter enumerates collections."""
import datetime
import json
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
s = MockupDB(port=port, auto_ismaster=hello)
# Commands the exporter sends that the capture does not hold: answered as a server
# without them would (CommandNotFound), or with an empty result.
for name in ("replSetGetConfig", "buildInfo", "top", "listDatabases"):
    s.autoresponds(name, {"ok": 0, "errmsg": "not in the capture", "code": 59, "codeName": "CommandNotFound"})
s.autoresponds(OpMsg("find"), cursor={"id": Int64(0), "ns": "x.y", "firstBatch": []})
s.autoresponds("ping")
s.autoresponds("getDiagnosticData", data=data)
s.autoresponds("serverStatus", **data.get("serverStatus", {}))
s.autoresponds("replSetGetStatus", **data.get("replSetGetStatus", {"ok": 0, "code": 76}))
s.autoresponds("getCmdLineOpts", parsed={}, argv=[])
if sys.argv[3:] == ["namespaces"]:
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
s.run()
print("listening", flush=True)
import time
while True:
    time.sleep(3600)
