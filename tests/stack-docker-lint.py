#!/usr/bin/env python3
"""Checks the Vigie images' build logic statically (tests/stack-containers builds and runs
them for real): for docker-compose.yml and docker-compose.agent.yml,

- every service has a healthcheck; every service with a `build` uses docker/Dockerfile and a
  `target` that is a stage of it, its image is vigie/<target>, it is read-only and not root;
- docker/Dockerfile's first stage is a pinned `rust:<version>` at least the workspace's
  rust-version, builds the dependencies from the manifests alone (no sources copied before
  its cargo build), and a later stage runs exactly `cargo build --release --locked` (the
  README's build, so the images hold the measured binaries);
- each image stage derives from a runtime stage on a pinned image, copies exactly one file,
  its binary, runs as a non-root numeric USER, and its ENTRYPOINT is that binary;
- .dockerignore is an allow-list (`*` first) that keeps target/, .git and .env out.
Run by tests/stack.
"""
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKERFILE = "docker/Dockerfile"


def stages(text):
    """{name: (FROM image, [(instruction, args)])} in order, continuation lines joined."""
    out = {}
    cur = None
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, args = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+([\w-]+))?", args.strip(), re.I)
            cur = (m.group(1), [])
            out[m.group(2) or f"#{len(out)}"] = cur
        elif cur is not None:
            cur[1].append((instr, args.strip()))
    return out


def crate_binaries():
    """Package names of the workspace crates with a src/main.rs."""
    names = set()
    for d in sorted(os.listdir(os.path.join(ROOT, "crates"))):
        toml = os.path.join(ROOT, "crates", d, "Cargo.toml")
        if os.path.exists(os.path.join(ROOT, "crates", d, "src", "main.rs")) and os.path.exists(toml):
            m = re.search(r'^name\s*=\s*"([^"]+)"', open(toml).read(), re.M)
            if m:
                names.add(m.group(1))
    return names


def version(s):
    return tuple(int(x) for x in s.split("."))


def check_dockerfile(problems):
    """The stages of docker/Dockerfile, checked."""
    st = stages(open(os.path.join(ROOT, DOCKERFILE)).read())
    names = list(st)
    root_toml = open(os.path.join(ROOT, "Cargo.toml")).read()
    rust_version = re.search(r'^rust-version\s*=\s*"([^"]+)"', root_toml, re.M).group(1)
    first_from, first_body = st[names[0]]
    m = re.fullmatch(r"rust:(\d+\.\d+)(?:\.\d+)?-\w+", first_from)
    if not m:
        problems.append(f"{DOCKERFILE}: first stage {first_from!r} is not a pinned rust:<version>-<debian>")
    elif version(m.group(1)) < version(rust_version):
        problems.append(f"{DOCKERFILE}: rust:{m.group(1)} is older than the workspace's rust-version {rust_version}")
    # The dependency stage: manifests only, then cargo build.
    body = first_body
    first_run = next((i for i, (ins, a) in enumerate(body) if ins == "RUN" and "cargo build" in a), None)
    if first_run is None:
        problems.append(f"{DOCKERFILE}: first stage builds nothing (the dependencies' cached layer)")
    else:
        for ins, a in body[:first_run]:
            if ins in ("COPY", "ADD") and not all(
                    s.endswith(("Cargo.toml", "Cargo.lock", "config.toml", "./", "/")) for s in a.split()):
                problems.append(f"{DOCKERFILE}: `{ins} {a}` before the dependencies' build: sources would invalidate it")
            if ins == "COPY" and re.search(r"(^|\s)(\.|crates/?)(\s|$)", a):
                problems.append(f"{DOCKERFILE}: `COPY {a}` before the dependencies' build")
    runs = [a for _, (_, b) in st.items() for ins, a in b if ins == "RUN" and "cargo" in a]
    if not any(re.search(r"cargo build --release --locked(\s*&&|\s*$)", r) for r in runs[1:]):
        problems.append(f"{DOCKERFILE}: no stage after the first runs plain `cargo build --release --locked`")
    if any(re.search(r"cargo rustc|RUSTFLAGS|-C ", r) for r in runs):
        problems.append(f"{DOCKERFILE}: extra rustc flags: the images would not hold `cargo build --release`'s binaries")
    return st


def check_image_stage(st, target, problems):
    """The stage `target`: one binary over a pinned runtime, non-root, ENTRYPOINT the binary."""
    where = f"{DOCKERFILE} stage {target}"
    if target not in st:
        problems.append(f"{where}: missing")
        return
    base, body = st[target]
    chain = [target]
    while base in st:
        chain.append(base)
        base = st[base][0]
    if ":" not in base or base.endswith(":latest"):
        problems.append(f"{where}: runtime image {base!r} is not pinned to a tag")
    pkg = f"vigie-{target}"
    if pkg not in crate_binaries():
        problems.append(f"{where}: {pkg} is not a workspace crate with a binary")
    copies = [a for i, a in body if i in ("COPY", "ADD")]
    if len(copies) != 1 or not re.fullmatch(rf"--from=\w+ /out/{pkg} /usr/local/bin/{pkg}", copies[0]):
        problems.append(f"{where}: must copy only the binary {pkg} from the build, found {copies}")
    users = [a for name in reversed(chain) for i, a in st[name][1] if i == "USER"]
    if not users or not re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]):
        problems.append(f"{where}: does not end as a non-root numeric USER ({users})")
    entry = [a for i, a in body if i == "ENTRYPOINT"]
    if not entry or entry[-1] != f'["/usr/local/bin/{pkg}"]':
        problems.append(f"{where}: ENTRYPOINT is not [\"/usr/local/bin/{pkg}\"] ({entry})")


def main():
    problems = []
    tracked = subprocess.run(["git", "ls-files", "Cargo.lock"], cwd=ROOT, capture_output=True, text=True).stdout
    if "Cargo.lock" not in tracked:
        problems.append("Cargo.lock is not committed: `cargo build --locked` in the images would fail")
    ignore = [l.strip() for l in open(os.path.join(ROOT, ".dockerignore")) if l.strip() and not l.startswith("#")]
    if not ignore or ignore[0] != "*":
        problems.append(".dockerignore is not an allow-list (first pattern `*`)")
    for want in ("target", ".git", ".env"):
        if want not in ignore:
            problems.append(f".dockerignore: {want} is not excluded from the build context")
    for allowed in ignore:
        if allowed.startswith("!") and re.match(r"!(router|alerting-rules|prometheus|alertmanager|dashboards|tests)", allowed):
            problems.append(f".dockerignore: {allowed} lets configuration into the build context")
    st = check_dockerfile(problems)
    checked = 0
    for compose_file in ("docker-compose.yml", "docker-compose.agent.yml"):
        compose = yaml.safe_load(open(os.path.join(ROOT, compose_file)))
        for name, svc in sorted(compose["services"].items()):
            if not (svc.get("healthcheck") or {}).get("test"):
                problems.append(f"{compose_file}: {name} has no healthcheck")
            build = svc.get("build")
            if not build:
                continue
            checked += 1
            if build.get("dockerfile") != DOCKERFILE or "target" not in build:
                problems.append(f"{compose_file}: {name} does not build a target of {DOCKERFILE}")
                continue
            target = build["target"]
            check_image_stage(st, target, problems)
            if svc.get("image") != f"vigie/{target}:dev":
                problems.append(f"{compose_file}: {name} builds {target} but names image {svc.get('image')}")
            if not svc.get("read_only"):
                problems.append(f"{compose_file}: {name} is not read_only")
            if svc.get("user") in ("0", "root") or str(svc.get("user", "")).startswith(("0:", "root")):
                problems.append(f"{compose_file}: {name} runs as root")
            if svc.get("privileged"):
                problems.append(f"{compose_file}: {name} is privileged")
    for p in problems:
        print(f"tests/stack-docker-lint.py: {p}")
    print(f"tests/stack-docker-lint.py: {checked} image services, {'OK' if not problems else str(len(problems)) + ' problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
