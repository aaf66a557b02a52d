# router: Alertmanager webhook receiver and escalation. Runs as nobody; its SQLite store
# lives in the /var/lib/vigie-router volume.
# Built from the repository root: docker build -f docker/router.Dockerfile .
# (docker-compose.yml does this). Multi-stage: the Rust toolchain stays in the builder;
# the runtime is debian:bookworm-slim with the one binary.
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p vigie-router && cp target/release/vigie-router /vigie-router

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /vigie-router /usr/local/bin/vigie-router
RUN mkdir -p /var/lib/vigie-router && chown 65534:65534 /var/lib/vigie-router
VOLUME /var/lib/vigie-router
USER 65534:65534
EXPOSE 9096
ENTRYPOINT ["/usr/local/bin/vigie-router"]
CMD ["serve", "--config", "/etc/vigie-router/router.yml", "--web.listen-address", ":9096"]
