# host-exporter: node_exporter-compatible host metrics. Runs as nobody; docker-compose.yml
# mounts the host's /proc, /sys and / read-only and passes --path.procfs/sysfs/rootfs.
# Built from the repository root: docker build -f docker/host-exporter.Dockerfile .
# (docker-compose.yml does this). Multi-stage: the Rust toolchain stays in the builder;
# the runtime is debian:bookworm-slim with the one binary.
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
# Static and not position-independent (as tests/bench/host measures it): ~1 MiB less RSS.
RUN cargo rustc --release --locked -p vigie-host-exporter --bin vigie-host-exporter -- \
        -C target-feature=+crt-static -C relocation-model=static -C opt-level=s \
    && cp target/release/vigie-host-exporter /vigie-host-exporter

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /vigie-host-exporter /usr/local/bin/vigie-host-exporter

USER 65534:65534
EXPOSE 9100
ENTRYPOINT ["/usr/local/bin/vigie-host-exporter"]
