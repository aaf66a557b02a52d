#!/usr/bin/env python3
"""Checks the Vigie images' build logic without building them (no image registry is
reachable from the tests, so neither the base images nor the crates can be pulled):
for every docker-compose.yml service with a `build`, its Dockerfile

- exists, builds in a first stage from a pinned `rust:<version>` image that is at least the
  workspace's rust-version, with `cargo build` (or `cargo rustc`) `--release --locked -p <crate>` of a
  workspace crate whose binary is the one copied (Cargo.lock is committed: --locked works);
- has a runtime stage from a pinned image (no `latest`) that copies exactly one file, the
  binary, from the build stage (no `COPY .`, no ADD), runs as a non-root numeric USER, and
  whose ENTRYPOINT is that binary;
and .dockerignore keeps target/, .git and .env out of the build context. Run by tests/stack.
"""
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stages(text):
    """[(FROM line, [(instruction, args)])], continuation lines joined, comments dropped."""
    out, cur = [], None
    logical = re.sub(r"\\\n", " ", text)
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, args = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            cur = (args.strip(), [])
            out.append(cur)
        elif cur is not None:
            cur[1].append((instr, args.strip()))
    return out


def crate_binaries():
    """{package name: rust-version ok} for workspace crates with a src/main.rs."""
    names = {}
    for d in sorted(os.listdir(os.path.join(ROOT, "crates"))):
        toml = os.path.join(ROOT, "crates", d, "Cargo.toml")
        if os.path.exists(os.path.join(ROOT, "crates", d, "src", "main.rs")) and os.path.exists(toml):
            m = re.search(r'^name\s*=\s*"([^"]+)"', open(toml).read(), re.M)
            if m:
                names[m.group(1)] = d
    return names


def version(s):
    return tuple(int(x) for x in s.split("."))


def main():
    problems = []
    compose = yaml.safe_load(open(os.path.join(ROOT, "docker-compose.yml")))
    root_toml = open(os.path.join(ROOT, "Cargo.toml")).read()
    rust_version = re.search(r'^rust-version\s*=\s*"([^"]+)"', root_toml, re.M).group(1)
    binaries = crate_binaries()
    tracked = subprocess.run(["git", "ls-files", "Cargo.lock"], cwd=ROOT, capture_output=True, text=True).stdout
    if "Cargo.lock" not in tracked:
        problems.append("Cargo.lock is not committed: `cargo build --locked` in the images would fail")
    ignore = open(os.path.join(ROOT, ".dockerignore")).read().split()
    for want in ("target", ".git", ".env"):
        if want not in ignore:
            problems.append(f".dockerignore: {want} is not excluded from the build context")
    checked = 0
    for name, svc in sorted(compose["services"].items()):
        build = svc.get("build")
        if not build:
            continue
        checked += 1
        path = os.path.join(ROOT, build.get("context", "."), build["dockerfile"])
        where = os.path.relpath(path, ROOT)
        if not os.path.exists(path):
            problems.append(f"{name}: {where} missing")
            continue
        st = stages(open(path).read())
        if len(st) < 2:
            problems.append(f"{where}: not multi-stage (a build stage and a runtime stage)")
            continue
        (b_from, b_body), (r_from, r_body) = st[0], st[-1]
        m = re.fullmatch(r"rust:(\d+\.\d+)(?:\.\d+)?-\w+ AS (\w+)", b_from, re.I)
        if not m:
            problems.append(f"{where}: build stage {b_from!r} is not a pinned rust:<version>-<debian> AS <name>")
            continue
        if version(m.group(1)) < version(rust_version):
            problems.append(f"{where}: rust:{m.group(1)} is older than the workspace's rust-version {rust_version}")
        stage = m.group(2)
        runs = " ".join(a for i, a in b_body if i == "RUN")
        # `cargo rustc` too: the host exporter passes flags (static, non-PIE) to its final crate.
        pm = re.search(r"cargo (?:build|rustc) --release --locked -p ([\w-]+)", runs)
        if not pm:
            problems.append(f"{where}: build stage has no `cargo build|rustc --release --locked -p <crate>`")
            continue
        pkg = pm.group(1)
        if pkg not in binaries:
            problems.append(f"{where}: {pkg} is not a workspace crate with a binary")
        if ":" not in r_from or r_from.endswith(":latest"):
            problems.append(f"{where}: runtime image {r_from!r} is not pinned to a tag")
        copies = [a for i, a in r_body if i in ("COPY", "ADD")]
        if any(i == "ADD" for i, _ in r_body):
            problems.append(f"{where}: runtime stage uses ADD")
        if len(copies) != 1 or not re.fullmatch(rf"--from={stage} /{pkg} /usr/local/bin/{pkg}", copies[0]):
            problems.append(f"{where}: runtime stage must copy only /{pkg} from {stage}, found {copies}")
        users = [a for i, a in r_body if i == "USER"]
        if not users or not re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]):
            problems.append(f"{where}: runtime stage does not end as a non-root numeric USER ({users})")
        entry = [a for i, a in r_body if i == "ENTRYPOINT"]
        if not entry or entry[-1] != f'["/usr/local/bin/{pkg}"]':
            problems.append(f"{where}: ENTRYPOINT is not [\"/usr/local/bin/{pkg}\"] ({entry})")
        if svc.get("user") in ("0", "root") or str(svc.get("user", "")).startswith(("0:", "root")):
            problems.append(f"docker-compose.yml: {name} runs as root")
        if svc.get("privileged"):
            problems.append(f"docker-compose.yml: {name} is privileged")
    for p in problems:
        print(f"tests/stack-docker-lint.py: {p}")
    print(f"tests/stack-docker-lint.py: {checked} images, {'OK' if not problems else str(len(problems)) + ' problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
