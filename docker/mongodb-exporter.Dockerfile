# mongodb-exporter: MongoDB metrics (Percona mongodb_exporter names). Runs as nobody; the
# URI (with its password) comes from MONGODB_URI (.env). docker-compose.yml keeps this
# service behind the "mongodb" profile: it is only useful where a MongoDB runs.
# Built from the repository root: docker build -f docker/mongodb-exporter.Dockerfile .
# (docker-compose.yml does this). Multi-stage: the Rust toolchain stays in the builder;
# the runtime is debian:bookworm-slim with the one binary.
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
# As tests/bench/mongodb measures it: not position-independent and optimised for size (the
# flags reach the final crate, where fat LTO generates all code): ~1 MiB less resident
# memory. Dynamically linked: host names resolve through glibc's NSS.
RUN cargo rustc --release --locked -p vigie-mongodb-exporter --bin vigie-mongodb-exporter -- \
        -C relocation-model=static -C opt-level=s \
    && cp target/release/vigie-mongodb-exporter /vigie-mongodb-exporter

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /vigie-mongodb-exporter /usr/local/bin/vigie-mongodb-exporter

USER 65534:65534
EXPOSE 9216
ENTRYPOINT ["/usr/local/bin/vigie-mongodb-exporter"]
