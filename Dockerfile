# vllm-mux as a container: the router of `vllm-mux export --format
# kubernetes`, or the whole tool on a machine with Docker.
#
#   docker build -t vllm-mux:0.1.0 .
#   docker run --rm -p 8000:8000 -v $PWD/configs:/etc/vllm-mux/configs:ro vllm-mux:0.1.0
#
# Build: the release binary (no TLS, no OpenSSL: it only dials plain http
# backends). Run: distroless glibc, no shell, a non-root user; NVML is
# loaded at run time only where a GPU driver is mounted in.

FROM docker.io/library/rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin vllm-mux \
    && mkdir -p /out/etc/vllm-mux/configs /out/var/lib/vllm-mux \
    && cp target/release/vllm-mux /out/vllm-mux

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/vllm-mux /usr/local/bin/vllm-mux
# Configs from a volume (a ConfigMap in Kubernetes); state in a writable one.
COPY --from=build --chown=65532:65532 /out/etc/vllm-mux /etc/vllm-mux
COPY --from=build --chown=65532:65532 /out/var/lib/vllm-mux /var/lib/vllm-mux
ENV XDG_CONFIG_HOME=/etc XDG_STATE_HOME=/var/lib
USER 65532:65532
EXPOSE 8000
ENTRYPOINT ["vllm-mux"]
CMD ["start", "--foreground"]
