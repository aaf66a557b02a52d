#!/usr/bin/env python3
"""Checks the dashboards without Grafana: each file is JSON with a unique uid, has the
`datasource`, `job` and `instance` template variables, every panel uses the datasource
variable, and every query (variables filled in by exprs.py) parses as PromQL.

promtool cannot parse a bare expression, so each one becomes a recording rule
`dashboard_check:<n>` in a temporary rule file that `promtool check rules` parses (label
matchers, functions, vector matching: the same parser Prometheus uses).

    dashboards/check.py            exit 0 when everything passes, else prints each problem
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import exprs  # noqa: E402


def main():
    problems, uids, rules = [], {}, []
    files = sorted(glob.glob(os.path.join(HERE, "*.json")))
    for path in files:
        name = os.path.basename(path)
        try:
            d = json.load(open(path, encoding="utf-8"))
        except ValueError as e:
            problems.append(f"{name}: not JSON: {e}")
            continue
        if d.get("uid") in uids:
            problems.append(f"{name}: uid {d.get('uid')} also in {uids[d['uid']]}")
        uids[d.get("uid")] = name
        names = {v["name"] for v in d.get("templating", {}).get("list", [])}
        for want in ("datasource", "job", "instance"):
            if want not in names:
                problems.append(f"{name}: no ${want} template variable")
        for p in exprs.panels(d.get("panels", [])):
            if p.get("type") != "row" and p.get("datasource", {}).get("uid") != "${datasource}":
                problems.append(f"{name}: panel {p.get('title')!r} does not use $datasource")
        for e in exprs.exprs(path, dict(exprs.DEFAULTS)):
            rules.append((f"{name} / {e.get('panel') or 'variable ' + e['variable']}", e["expr"]))
    with tempfile.TemporaryDirectory() as tmp:
        # One file per expression, so promtool names the culprit; checked in one run.
        paths = []
        for i, (where, expr) in enumerate(rules):
            p = os.path.join(tmp, f"{i:04d}.yml")
            with open(p, "w", encoding="utf-8") as fh:
                json.dump({"groups": [{"name": "dashboard_check", "rules": [
                    {"record": f"dashboard_check:{i}", "expr": expr}]}]}, fh)
            paths.append((p, where, expr))
        r = subprocess.run(["promtool", "check", "rules"] + [p for p, _, _ in paths],
                           capture_output=True, text=True)
        if r.returncode != 0:
            out = r.stdout + r.stderr
            for p, where, expr in paths:
                block = out.split(f"Checking {p}", 1)[-1].split("Checking ", 1)[0]
                if f"Checking {p}" in out and "FAILED" in block:
                    problems.append(f"{where}: {expr}\n    {block.strip()}")
            if not problems:
                problems.append(out)
    for p in problems:
        print(f"dashboards/check.py: {p}")
    print(f"dashboards/check.py: {len(files)} dashboards, {len(rules)} queries, "
          f"{'OK' if not problems else str(len(problems)) + ' problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
