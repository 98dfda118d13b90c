#!/usr/bin/env bash
# Supervisor numbers for the README and the issue notes, in one run:
#  - how long `vllm-mux status` takes with 3 mock models running (the whole
#    CLI process, which is what a person or a script waits for);
#  - the supervisor's resident memory, idle, and after a burst of requests.
# Writes bench/RESULTS-supervisor.md. Needs python3. Takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
export BIN="$PWD/target/release/vllm-mux"
home=$(mktemp -d)
export VLLM_MUX_HOME="$home"
trap '"$BIN" --config bench stop --timeout 2 >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" --config bench init -q --host 127.0.0.1 --port "$port"
for m in a b c; do "$BIN" --config bench add-model "$m" --engine mock -q; done
"$BIN" --config bench start -q
export PORT="$port"
python3 - <<'PY' | tee bench/RESULTS-supervisor.md
import json, os, statistics, subprocess, time, urllib.request

bin_, port, home = os.environ["BIN"], os.environ["PORT"], os.environ["VLLM_MUX_HOME"]
pid = int(open(f"{home}/run/bench/supervisor.pid").read())

def rss_kib(p):
    for line in open(f"/proc/{p}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def status_ms(n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([bin_, "--config", "bench", "--json", "status"], check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times

time.sleep(2)
idle = rss_kib(pid)
times = status_ms(200)
body = json.dumps({"model": "a", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 16}).encode()
sent, deadline = 0, time.time() + 20
while sent < 1000 and time.time() < deadline:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", body, {"content-type": "application/json"})
    urllib.request.urlopen(req).read()
    sent += 1
after = rss_kib(pid)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
print("# Supervisor benchmark\n")
print(f"`bash bench/supervisor.sh`, release build, {os.cpu_count()} cores ({cpu}), 3 mock models running.\n")
print("| measure | value |")
print("|---|---|")
print(f"| `vllm-mux status --json`, whole process, median of 200 | {statistics.median(times):.1f} ms |")
print(f"| same, 95th percentile | {times[int(len(times) * 0.95)]:.1f} ms |")
print(f"| same, slowest | {times[-1]:.1f} ms |")
print(f"| supervisor RSS, idle | {idle / 1024:.1f} MiB |")
print(f"| supervisor RSS after {sent} requests through the proxy | {after / 1024:.1f} MiB |")
PY
