#!/usr/bin/env python3
"""Checks what promtool does not: every alert in alerting-rules/*.yml carries `severity`
and `level` (1 support, 2 DevOps, 3 architect), annotations summary, description (with
{{ $value }} or a label-only event text), runbook_url to docs/runbooks/<alert>.md (which
must exist) and dashboard; every alert has a promtool test in alerting-rules/tests/ that
expects it to fire; every runbook has its four sections. Run by tests/stack.
"""
import glob
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECTIONS = ["## What to check", "## How to restart", "## How to roll back", "## What to record for the root-cause analysis"]


def main():
    problems, alerts = [], {}
    for f in sorted(glob.glob(os.path.join(ROOT, "alerting-rules", "*.yml"))):
        for g in yaml.safe_load(open(f))["groups"]:
            for r in g["rules"]:
                if "alert" not in r:
                    continue
                name, where = r["alert"], os.path.basename(f)
                if name in alerts:
                    problems.append(f"{where}: {name} also in {alerts[name]}")
                alerts[name] = where
                labels, ann = r.get("labels", {}), r.get("annotations", {})
                if labels.get("severity") not in ("info", "warning", "critical"):
                    problems.append(f"{where}: {name}: severity {labels.get('severity')!r} not info|warning|critical")
                if str(labels.get("level")) not in ("1", "2", "3"):
                    problems.append(f"{where}: {name}: level {labels.get('level')!r} not 1|2|3")
                for a in ("summary", "description", "runbook_url", "dashboard"):
                    if not ann.get(a):
                        problems.append(f"{where}: {name}: no {a} annotation")
                if "$value" not in ann.get("description", ""):
                    problems.append(f"{where}: {name}: description does not show {{{{ $value }}}}")
                if not ann.get("runbook_url", "").endswith(f"/{name}.md"):
                    problems.append(f"{where}: {name}: runbook_url does not end in /{name}.md")
                rb = os.path.join(ROOT, "docs", "runbooks", f"{name}.md")
                if not os.path.exists(rb):
                    problems.append(f"{where}: {name}: {os.path.relpath(rb, ROOT)} missing")
                else:
                    text = open(rb).read()
                    for s in SECTIONS:
                        if s not in text:
                            problems.append(f"{os.path.relpath(rb, ROOT)}: no '{s}' section")
    fired = set()
    for f in glob.glob(os.path.join(ROOT, "alerting-rules", "tests", "*.test.yml")):
        for t in yaml.safe_load(open(f)).get("tests", []):
            for a in t.get("alert_rule_test", []) or []:
                if a.get("exp_alerts"):
                    fired.add(a["alertname"])
    for name in sorted(set(alerts) - fired):
        problems.append(f"{alerts[name]}: {name}: no promtool test expects it to fire")
    for rb in glob.glob(os.path.join(ROOT, "docs", "runbooks", "*.md")):
        if os.path.basename(rb)[:-3] not in alerts:
            problems.append(f"{os.path.relpath(rb, ROOT)}: no alert of that name")
    for p in problems:
        print(f"tests/stack-lint.py: {p}")
    print(f"tests/stack-lint.py: {len(alerts)} alerts, {len(fired)} tested, {'OK' if not problems else str(len(problems)) + ' problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
