# pm2-exporter: pm2-metrics-compatible PM2 metrics. The RPC socket needs the PM2 daemon's
# user: docker-compose.yml runs it as PM2_UID:PM2_GID (.env).
# Built from the repository root: docker build -f docker/pm2-exporter.Dockerfile .
# (docker-compose.yml does this). Multi-stage: the Rust toolchain stays in the builder;
# the runtime is debian:bookworm-slim with the one binary.
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p vigie-pm2-exporter && cp target/release/vigie-pm2-exporter /vigie-pm2-exporter

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /vigie-pm2-exporter /usr/local/bin/vigie-pm2-exporter

USER 65534:65534
EXPOSE 9209
ENTRYPOINT ["/usr/local/bin/vigie-pm2-exporter"]
