# docker-exporter: cAdvisor-compatible container metrics. Runs as nobody; docker-compose.yml
# adds the group owning the Docker socket (DOCKER_GID) so it can read /var/run/docker.sock
# (mounted read-only).
# Built from the repository root: docker build -f docker/docker-exporter.Dockerfile .
# (docker-compose.yml does this). Multi-stage: the Rust toolchain stays in the builder;
# the runtime is debian:bookworm-slim with the one binary.
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p vigie-docker-exporter && cp target/release/vigie-docker-exporter /vigie-docker-exporter

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /vigie-docker-exporter /usr/local/bin/vigie-docker-exporter

USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vigie-docker-exporter"]
