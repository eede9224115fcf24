# cpefleet container image: a static-ish release binary on a slim Debian base, with the
# shipped templates and scenarios. Build: docker build -t cpefleet .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin cpefleet

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/cpefleet /usr/local/bin/cpefleet
COPY data-models /usr/share/cpefleet/data-models
COPY scenarios /usr/share/cpefleet/scenarios
# Unprivileged: nothing here needs root (listeners use ports above 1024).
USER 65534:65534
WORKDIR /usr/share/cpefleet
ENTRYPOINT ["cpefleet"]
CMD ["run", "scenarios/quickstart.yaml"]
