#!/usr/bin/env python3
"""Writes the Grafana dashboards, dashboards/*.json, from dashboards/boards/*.py (one module
per dashboard) with grafana-foundation-sdk, Grafana's typed builders, so every file follows
Grafana's dashboard schema (schemaVersion of the pinned SDK's Grafana release).

    python3 -m venv /tmp/gf && /tmp/gf/bin/pip install -r dashboards/requirements.txt
    /tmp/gf/bin/python dashboards/generate.py           write every dashboards/*.json
    /tmp/gf/bin/python dashboards/generate.py --check   exit 1 unless the committed files are
                                                        byte for byte what it writes

Edit the module, regenerate, commit both; the JSON is committed because Grafana's file
provisioning (dashboards/provisioning) reads it as is. The check (run by tests/stack) also
fails on a dashboards/*.json that no module writes, and reads each file back through the
SDK's typed models: every field must come out again (a field outside the schema would be
dropped; the models may add their empty defaults).
The output depends on the SDK version, so it must be the one requirements.txt pins.
"""
import difflib
import glob
import importlib
import importlib.metadata
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # the folder is mounted into Grafana; keep it free of caches
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
SDK = "grafana-foundation-sdk"


def fail(msg):
    sys.exit(f"dashboards/generate.py: {msg}")


def require_pinned_sdk():
    with open(os.path.join(HERE, "requirements.txt"), encoding="utf-8") as f:
        m = re.search(rf"^{SDK}==(\S+)$", f.read(), re.M)
    if not m:
        fail(f"dashboards/requirements.txt pins no {SDK}==VERSION")
    hint = (f"install it: python3 -m venv /tmp/gf && /tmp/gf/bin/pip install -r dashboards/requirements.txt, "
            f"then run /tmp/gf/bin/python dashboards/generate.py")
    try:
        have = importlib.metadata.version(SDK)
    except importlib.metadata.PackageNotFoundError:
        fail(f"{SDK} is not installed for {sys.executable}; {hint}")
    if have != m.group(1):
        fail(f"{SDK} {have} is installed, dashboards/requirements.txt pins {m.group(1)} "
             f"(the JSON differs between versions); {hint}")


def to_text(obj):
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    return json.dumps(obj, cls=JSONEncoder, indent=2, ensure_ascii=False) + "\n"


def render():
    """{file name: JSON text} for every module in boards.BOARDS."""
    import boards
    out = {}
    for name in boards.BOARDS:
        b = importlib.import_module(f"boards.{name}").board()
        file = f"{b.uid.removeprefix('vigie-')}.json"
        if file != f"{name}.json":
            fail(f"boards/{name}.py builds uid {b.uid}, which belongs in {file}, not {name}.json")
        out[file] = to_text(b.build())
    return out


def reread(text):
    """The JSON as the SDK's typed models read and write it back."""
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard
    register_default_plugins()
    return json.loads(to_text(Dashboard.from_json(json.loads(text))))


def dropped(mine, back, where=""):
    """Paths of `mine` (parsed JSON) missing or different in `back`."""
    if isinstance(mine, dict) and isinstance(back, dict):
        return [p for k, v in mine.items()
                for p in (dropped(v, back[k], f"{where}.{k}") if k in back else [f"{where}.{k}"])]
    if isinstance(mine, list) and isinstance(back, list) and len(mine) == len(back):
        return [p for i, (a, b) in enumerate(zip(mine, back)) for p in dropped(a, b, f"{where}[{i}]")]
    return [] if mine == back else [where or "."]


def check(rendered):
    problems = []
    for name, text in rendered.items():
        path = os.path.join(HERE, name)
        have = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if have is None:
            problems.append(f"{name}: missing (boards/{name[:-5]}.py writes it)")
        elif have != text:
            diff = difflib.unified_diff(have.splitlines(), text.splitlines(), f"{name} (committed)",
                                        f"{name} (generated)", n=1, lineterm="")
            problems.append(f"{name}: not what boards/{name[:-5]}.py writes:\n    " +
                            "\n    ".join(list(diff)[:30]))
        lost = dropped(json.loads(text), reread(text))
        if lost:
            problems.append(f"{name}: the SDK's models do not read back {', '.join(lost[:10])}")
    for path in sorted(glob.glob(os.path.join(HERE, "*.json"))):
        if os.path.basename(path) not in rendered:
            problems.append(f"{os.path.basename(path)}: written by no module of dashboards/boards")
    for p in problems:
        print(f"dashboards/generate.py --check: {p}")
    print(f"dashboards/generate.py --check: {len(rendered)} dashboards, "
          f"{'byte for byte as generated' if not problems else str(len(problems)) + ' problem(s); run dashboards/generate.py'}")
    return 1 if problems else 0


def main(argv):
    require_pinned_sdk()
    rendered = render()
    if "--check" in argv:
        return check(rendered)
    for name, text in rendered.items():
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            f.write(text)
    print(f"dashboards/generate.py: wrote {', '.join(rendered)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
