# mysql-exporter: mysqld_exporter-compatible MySQL/MariaDB metrics. Runs as nobody; the
# password comes from MYSQLD_EXPORTER_PASSWORD (.env).
# Built from the repository root: docker build -f docker/mysql-exporter.Dockerfile .
# (docker-compose.yml does this). Multi-stage: the Rust toolchain stays in the builder;
# the runtime is debian:bookworm-slim with the one binary.
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p vigie-mysql-exporter && cp target/release/vigie-mysql-exporter /vigie-mysql-exporter

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /vigie-mysql-exporter /usr/local/bin/vigie-mysql-exporter

USER 65534:65534
EXPOSE 9104
ENTRYPOINT ["/usr/local/bin/vigie-mysql-exporter"]
