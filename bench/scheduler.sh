#!/usr/bin/env bash
# More models than GPUs: the swap-group scheduler (`batch`) against
# llama-swap's swap-per-request (`llama-swap`), in one run, on mock engines
# and fake GPUs (see bench/scheduler.py). Release build. About 4 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
python3 bench/scheduler.py "$PWD/target/release/vllm-mux"
