# shellcheck shell=bash
# Sourced by tests/systemd and tests/packages: a private dockerd (its own socket and roots,
# no bridge: containers get --network none) and a container booted with systemd as PID 1
# from the image tests/lib/systemd-image makes. Everything goes under $SD_WORK, which the
# caller creates and removes; sd_cleanup stops what these functions started, by pid.

SD_IMAGE=vigie-test/systemd:bookworm
SD_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# sd_start_dockerd: starts the private dockerd and exports DOCKER_HOST.
sd_start_dockerd() {
    local d=$SD_WORK/dockerd
    mkdir -p "$d"
    dockerd --host "unix://$d/docker.sock" --data-root "$d/data" --exec-root "$d/exec" \
        --pidfile "$d/dockerd.pid" --storage-driver=vfs --iptables=false --ip-masq=false \
        --bridge=none --cgroup-parent=vigie-test >"$d/dockerd.log" 2>&1 &
    SD_DOCKERD_PID=$!
    export DOCKER_HOST=unix://$d/docker.sock
    for _ in $(seq 300); do
        docker info >/dev/null 2>&1 && return 0
        kill -0 "$SD_DOCKERD_PID" 2>/dev/null || break
        sleep 0.2
    done
    tail -20 "$d/dockerd.log" >&2
    echo "dockerd did not start" >&2
    return 1
}

# sd_boot NAME [docker run options…]: imports the image if needed, boots a container with
# systemd as PID 1 and waits until `systemctl is-system-running` settles (running or degraded).
sd_boot() {
    local name=$1 state=
    shift
    "$SD_LIB/systemd-image" "$SD_IMAGE"
    # SYS_ADMIN and no seccomp/AppArmor confinement: systemd mounts its cgroup tree and the
    # units' sandboxes (ProtectSystem=, PrivateTmp=) inside. --network none: nothing leaves.
    docker run -d --pull never --network none --name "$name" --cgroupns private \
        --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --tmpfs /run --tmpfs /run/lock --tmpfs /tmp --stop-signal SIGRTMIN+3 "$@" "$SD_IMAGE" >/dev/null
    SD_CONTAINERS+=("$name")
    for _ in $(seq 300); do
        state=$(docker exec "$name" systemctl is-system-running 2>/dev/null) || true
        [[ $state == running || $state == degraded ]] && return 0
        sleep 0.2
    done
    docker logs "$name" 2>&1 | tail -30 >&2
    echo "systemd in $name did not boot (state: ${state:-none})" >&2
    return 1
}

sd_cleanup() {
    local c
    for c in "${SD_CONTAINERS[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
    if [[ -n ${SD_DOCKERD_PID:-} ]]; then
        kill "$SD_DOCKERD_PID" 2>/dev/null || true
        wait "$SD_DOCKERD_PID" 2>/dev/null || true
    fi
}
SD_CONTAINERS=()
