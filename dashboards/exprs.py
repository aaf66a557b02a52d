#!/usr/bin/env python3
"""Prints every PromQL query of the dashboards, template variables filled in, one JSON object
a line: {"dashboard", "panel", "ref", "expr"} (panel queries) and {"dashboard", "variable",
"expr"} (the metric selector of each `label_values(...)` variable query).

    dashboards/exprs.py [--var name=value ...] [FILE.json ...]

Defaults: `$job`, `$instance`, `$service` → `.*` (every value, as the "All" option sends),
Grafana's `$__rate_interval` → 1m, `$__interval` → 15s, `$__range` → 1h. The end-to-end
test passes the real values it scraped; tests/stack feeds the output to a promtool parse check.
"""
import glob
import json
import os
import re
import sys

DEFAULTS = {"job": ".*", "instance": ".*", "service": ".*", "__rate_interval": "1m",
            "__interval": "15s", "__range": "1h", "datasource": "Prometheus"}
VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")


def fill(expr, values):
    def sub(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in values:
            sys.exit(f"exprs.py: no value for ${name} in {expr!r}")
        return values[name]
    return VAR.sub(sub, expr)


def panels(items):
    for p in items:
        yield p
        yield from panels(p.get("panels", []))


def exprs(path, values):
    d = json.load(open(path, encoding="utf-8"))
    name = os.path.basename(path)
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"label_values\((.*),\s*\w+\)", q.strip())
        if m:
            yield {"dashboard": name, "variable": v["name"], "expr": fill(m.group(1), values)}
    for p in panels(d.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("expr"):
                yield {"dashboard": name, "panel": p.get("title", ""), "ref": t.get("refId", ""),
                       "expr": fill(t["expr"], values)}


def main(argv):
    values, files = dict(DEFAULTS), []
    it = iter(argv)
    for a in it:
        if a == "--var":
            k, _, v = next(it).partition("=")
            values[k] = v
        else:
            files.append(a)
    if not files:
        files = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "*.json")))
    for f in files:
        for e in exprs(f, values):
            print(json.dumps(e, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
