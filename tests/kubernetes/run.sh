#!/usr/bin/env bash
# The export tests again, with Kubernetes' own schemas: installs
# kubernetes-validate (PyPI; its schemas are in the package, so it runs
# offline) into a venv under target/, then runs tests/export.rs with
# VLLM_MUX_KUBERNETES_VALIDATE pointing at it. Under a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${VLLM_MUX_K8S_VENV:-$PWD/target/kubernetes-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/kubernetes-validate" --version >/dev/null 2>&1; then
    "$venv/bin/pip" install -q --disable-pip-version-check 'kubernetes-validate==1.37.*'
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
exit "$rc"
