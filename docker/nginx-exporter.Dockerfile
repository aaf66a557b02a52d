# nginx-exporter: nginx-prometheus-exporter-compatible stub_status metrics and access log
# metrics with prometheus-nginxlog-exporter's names.
# Built from the repository root: docker build -f docker/nginx-exporter.Dockerfile .
# (docker-compose.yml does this). Multi-stage: the Rust toolchain stays in the builder;
# the runtime is debian:bookworm-slim with the one binary.
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p vigie-nginx-exporter && cp target/release/vigie-nginx-exporter /vigie-nginx-exporter

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /vigie-nginx-exporter /usr/local/bin/vigie-nginx-exporter

USER 65534:65534
EXPOSE 9113
ENTRYPOINT ["/usr/local/bin/vigie-nginx-exporter"]
