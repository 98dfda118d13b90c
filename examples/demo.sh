#!/bin/sh
# The quickstart walk-through on the built-in mock engine: no GPU, no vLLM.
# It uses its own config ("demo"), so your other configs are left alone;
# running it again starts the demo config over (the old one is kept as .bak).
set -eu
run() {
    printf '\n$ %s\n' "$*"
    "$@"
}
run vllm-mux --config demo init --force --port 8000
run vllm-mux --config demo add-model chat --engine mock --alias gpt-4o-mini
run vllm-mux --config demo add-model embed --engine mock --alias text-embedding-3-small
run vllm-mux --config demo show
run vllm-mux --config demo export
run vllm-mux list
echo
echo "The demo config is saved. 'vllm-mux --config demo start' serves it once the supervisor lands (see README, Status)."
