# syntax=docker/dockerfile:1
#
# The ecs-autopsy container image: the `dist` build of the binary (release, thin LTO,
# optimised for size, stripped) on distroless cc, which has glibc, CA certificates and a
# non-root user, and nothing else (no shell, no package manager).
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t ecs-autopsy .
#   docker run --rm -v "$PWD:/work" ecs-autopsy replay incident.json.gz
#
# The build stage runs on the builder's own platform and cross-compiles for the target one
# (Debian's cross gcc for aws-lc, the only C code), so a multi-platform build needs no
# emulation. TLS is rustls with aws-lc-rs: no OpenSSL in either stage.

ARG RUST_VERSION=1.95

FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-slim-trixie AS builder
ARG TARGETARCH
ARG BUILDARCH
WORKDIR /src

# The C cross-compiler for the target, when it is not the builder's own architecture; the
# target names are the ones the release workflow builds.
# hadolint ignore=DL3008
RUN set -eux; \
    case "$TARGETARCH" in \
      amd64) target="x86_64-unknown-linux-gnu"; gcc="gcc-x86-64-linux-gnu"; libc="libc6-dev-amd64-cross" ;; \
      arm64) target="aarch64-unknown-linux-gnu"; gcc="gcc-aarch64-linux-gnu"; libc="libc6-dev-arm64-cross" ;; \
      *) echo "unsupported platform: linux/$TARGETARCH (linux/amd64 and linux/arm64 are)" >&2; exit 1 ;; \
    esac; \
    if [ "$TARGETARCH" != "$BUILDARCH" ]; then \
      apt-get update; \
      apt-get install -y --no-install-recommends "$gcc" "$libc"; \
      rm -rf /var/lib/apt/lists/*; \
      rustup target add "$target"; \
    fi; \
    echo "$target" > /rust-target

# Debian's gcc answers to its target-prefixed name natively too, so these hold either way.
ENV CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER=x86_64-linux-gnu-gcc \
    CC_x86_64_unknown_linux_gnu=x86_64-linux-gnu-gcc \
    AR_x86_64_unknown_linux_gnu=x86_64-linux-gnu-ar \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
    AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
    CARGO_INCREMENTAL=0

COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    set -eux; \
    target="$(cat /rust-target)"; \
    cargo build --locked --profile dist -p ecs-autopsy --target "$target"; \
    mkdir -p /out; \
    cp "target/$target/dist/ecs-autopsy" /out/ecs-autopsy

FROM gcr.io/distroless/cc-debian13:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="ecs-autopsy" \
      org.opencontainers.image.description="Tells you why your Amazon ECS tasks stopped, with the evidence" \
      org.opencontainers.image.source="https://github.com/ecs-autopsy/ecs-autopsy" \
      org.opencontainers.image.url="https://github.com/ecs-autopsy/ecs-autopsy" \
      org.opencontainers.image.documentation="https://github.com/ecs-autopsy/ecs-autopsy#readme" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=builder /out/ecs-autopsy /usr/local/bin/ecs-autopsy
# distroless's nonroot user (65532), by number so that runAsNonRoot can check it.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["ecs-autopsy"]
CMD ["--help"]
