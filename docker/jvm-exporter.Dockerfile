# jvm-exporter: JVM and Tomcat metrics through Jolokia. Runs as nobody.
# Built from the repository root: docker build -f docker/jvm-exporter.Dockerfile .
# (docker-compose.yml does this). Multi-stage: the Rust toolchain stays in the builder;
# the runtime is debian:bookworm-slim with the one binary.
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p vigie-jvm-exporter && cp target/release/vigie-jvm-exporter /vigie-jvm-exporter

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /vigie-jvm-exporter /usr/local/bin/vigie-jvm-exporter

USER 65534:65534
EXPOSE 9404
ENTRYPOINT ["/usr/local/bin/vigie-jvm-exporter"]
