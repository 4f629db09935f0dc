# syntax=docker/dockerfile:1
#
# The gateway's production image: `docker build -t smart-npc .` (README, "Production").
# Stage 1 compiles with Rust 1.95; its dependency layer (cargo-chef) is rebuilt only when
# Cargo.toml/Cargo.lock change, so a change to the code recompiles the crate alone.
# Stage 2 is a slim Debian with the binary, a non-root user and curl for the health check.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
# cargo-chef turns the workspace's manifests into a "recipe" from which the
# dependencies build on their own (entity/ and migration/ are workspace members).
RUN cargo install cargo-chef --locked --version 0.1.77
WORKDIR /build

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /build/recipe.json recipe.json
# Dependencies only: this layer stays cached while the lock file is unchanged.
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin smart-npc
COPY . .
RUN cargo build --release --locked --bin smart-npc \
    && install -D -m 0755 target/release/smart-npc /out/smart-npc

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# curl: the HEALTHCHECK below. ca-certificates: TLS to services outside the compose
# network (e.g. a managed PostgreSQL with sslmode=require).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 smart-npc \
    && useradd --system --uid 10001 --gid smart-npc --home-dir /var/lib/smart-npc \
       --create-home --shell /usr/sbin/nologin smart-npc \
    && install -d -o smart-npc -g smart-npc /var/lib/smart-npc/files
COPY --from=builder /out/smart-npc /usr/local/bin/smart-npc

# Production defaults (README, "Configuration"); TOKEN_SECRET, DATABASE_URL,
# REDIS_URL and PUBLIC_BASE_URL come from the deployment (deploy/compose.yaml).
# Without TOKEN_SECRET the gateway refuses to start in production mode.
ENV SMART_NPC_PRODUCTION=true \
    LOG_FORMAT=json \
    RUST_LOG=info \
    BIND_ADDR=0.0.0.0:8000 \
    METRICS_BIND_ADDR=0.0.0.0:9100 \
    SHUTDOWN_GRACE_SECS=10

USER smart-npc:smart-npc
WORKDIR /var/lib/smart-npc
# 8000: GraphQL, WebSocket, pages (behind the load balancer). 9100: /metrics, for the
# internal network only (never publish it).
EXPOSE 8000 9100
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8000/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/smart-npc"]
CMD ["serve"]
