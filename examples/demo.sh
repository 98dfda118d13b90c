#!/bin/sh
# The quickstart on the built-in mock engine: no GPU, no vLLM.
# It uses its own config ("demo") on port 8000, so your other configs are
# left alone; running it again starts the demo over (the old config is kept
# as .bak). It leaves the demo running: stop it with
#   vllm-mux --config demo stop
set -eu
run() {
    printf '\n$'
    for arg in "$@"; do
        case "$arg" in
            *[!A-Za-z0-9_./:=,-]*) printf " '%s'" "$arg" ;;
            *) printf ' %s' "$arg" ;;
        esac
    done
    printf '\n'
    "$@"
}
vllm-mux --config demo stop >/dev/null 2>&1 || true
run vllm-mux --config demo init --force --port 8000
run vllm-mux --config demo add-model chat --engine mock --alias gpt-4o-mini
run vllm-mux --config demo add-model embed --engine mock --alias text-embedding-3-small
run vllm-mux --config demo start
run curl -sS http://127.0.0.1:8000/v1/chat/completions -H 'content-type: application/json' \
    -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 5}'
echo
run curl -sS http://127.0.0.1:8000/v1/embeddings -H 'content-type: application/json' \
    -d '{"model": "text-embedding-3-small", "input": "Hello!"}'
echo
run vllm-mux --config demo status
echo
echo "The demo is running on http://127.0.0.1:8000. Try 'vllm-mux --config demo logs -f',"
echo "then stop it with 'vllm-mux --config demo stop'."
