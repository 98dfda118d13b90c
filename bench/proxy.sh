#!/usr/bin/env bash
# Proxy benchmark, in one run on this machine: straight to the backend,
# through nginx (a plain reverse proxy: one worker, proxy_buffering off,
# upstream keepalive), and through vllm-mux. The backend and the load
# generators share core 0; the proxy under test gets core 1 alone.
# Writes bench/RESULTS.md. Every load run is bounded in time (DURATION s;
# C1_SECS s for the C1_ROUNDS rounds one request at a time).
set -euo pipefail
cd "$(dirname "$0")/.."
export DURATION="${DURATION:-10}" ROUNDS="${ROUNDS:-3}" C1_ROUNDS="${C1_ROUNDS:-20}" C1_SECS="${C1_SECS:-2}"
if ! command -v nginx >/dev/null 2>&1 || ! command -v wrk >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk
fi
cargo build --release --locked --quiet --bin vllm-mux --example bench-upstream --example bench-stream
ulimit -n 65536 2>/dev/null || true
. bench/setup.sh

python3 - <<'PY' | tee bench/RESULTS.md
import json, os, re, struct, subprocess, time

import statistics, threading

work, duration, rounds = os.environ["WORK"], int(os.environ["DURATION"]), int(os.environ["ROUNDS"])
c1_rounds, c1_secs = int(os.environ["C1_ROUNDS"]), int(os.environ["C1_SECS"])
ports = {"direct": os.environ["UP_PORT"], "nginx": os.environ["NGINX_PORT"], "vllm-mux": os.environ["MUX_PORT"]}

def nginx_pids():
    master = int(open(f"{work}/nginx.pid").read())
    kids = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [master] + [int(k) for k in kids]

def proxy_pids(name):
    if name == "nginx":
        return nginx_pids()
    if name == "vllm-mux":
        return [int(open(f"{work}/home/run/bench/supervisor.pid").read())]
    return []

def cpu_s(pids):
    """CPU time of every thread of `pids`, from the scheduler's own count
    (exact, where utime/stime in /proc/PID/stat are sampled at each tick)."""
    total = 0
    for p in pids:
        for task in os.listdir(f"/proc/{p}/task"):
            try:
                total += int(open(f"/proc/{p}/task/{task}/schedstat").read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass  # a thread that ended meanwhile
    return total / 1e9

def mem_kib(pids, key):
    total = 0
    for p in pids:
        for line in open(f"/proc/{p}/status"):
            if line.startswith(key + ":"):
                total += int(line.split()[1])
    return total

def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

def core0():
    """(busy, idle) clock ticks of core 0, where the load and the backend run."""
    fields = next(l for l in open("/proc/stat") if l.startswith("cpu0 ")).split()[1:]
    ticks = [int(f) for f in fields]
    return sum(ticks) - ticks[3] - ticks[4], ticks[3] + ticks[4]

def wrk(name, conns, secs):
    url = f"http://127.0.0.1:{ports[name]}/v1/chat/completions"
    pids = proxy_pids(name)
    before, load_before = cpu_s(pids), core0()
    out = subprocess.run(["taskset", "-c", "0", "wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--latency", "-s", f"{work}/post.lua", url],
                         capture_output=True, text=True, check=True).stdout
    cpu = cpu_s(pids) - before
    busy, idle = (a - b for a, b in zip(core0(), load_before))
    done = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": ms(re.search(r"\s50%\s+(\S+)", out).group(1)), "p99": ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
            "cpu_us": cpu / done * 1e6 if pids else None, "requests": done, "load_busy": busy / max(busy + idle, 1),
            "errors": int(errors.group(1)) if errors else 0}

def streams(name, concurrency, requests):
    url = f"http://127.0.0.1:{ports[name]}/v1/chat/completions"
    out = subprocess.run(["taskset", "-c", "0", "target/release/examples/bench-stream", "--url", url,
                          "--concurrency", str(concurrency), "--requests", str(requests)],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    return json.loads(out)

# Student's t at 97.5% for 1..30 degrees of freedom (beyond: 1.96).
T975 = [12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.20, 2.18, 2.16, 2.14, 2.13,
        2.12, 2.11, 2.10, 2.09, 2.09, 2.08, 2.07, 2.07, 2.06, 2.06, 2.06, 2.05, 2.05, 2.05, 2.04]

def mean_interval(values):
    """The 95% confidence interval of the mean of `values` (t distribution)."""
    if len(values) < 2:
        return values[0], values[0]
    t = T975[len(values) - 2] if len(values) - 1 <= len(T975) else 1.96
    half = t * statistics.stdev(values) / len(values) ** 0.5
    mean = statistics.mean(values)
    return mean - half, mean + half

def median_run(runs):
    """The median of interleaved rounds; CPU per request over all of them."""
    cpu = [r["cpu_us"] for r in runs if r["cpu_us"] is not None]
    return {"rps": statistics.median(r["rps"] for r in runs), "p50": statistics.median(r["p50"] for r in runs),
            "load_busy": statistics.median(r["load_busy"] for r in runs),
            "p99": statistics.median(r["p99"] for r in runs),
            "cpu_us": sum(c * r["requests"] for c, r in zip(cpu, runs)) / sum(r["requests"] for r in runs) if cpu else None}

def big_run(name):
    """1000 concurrent streams, sampling the proxy's RSS every 50 ms meanwhile."""
    pids, samples, done = proxy_pids(name), [], threading.Event()
    def sample():
        while not done.wait(0.05):
            samples.append(mem_kib(pids, "VmRSS"))
    sampler = threading.Thread(target=sample)
    before = mem_kib(pids, "VmRSS")
    sampler.start()
    result = streams(name, 1000, 1000)
    done.set()
    sampler.join()
    return {"before": before, "max": max(samples, default=before), "after": mem_kib(pids, "VmRSS"), **result}

def one_at_a_time():
    """Concurrency 1 in many short rounds, the order reversed every other
    round: at one request in flight the proxy's core idles between steps,
    and the drift from round to round is larger than the proxies' difference."""
    per = {name: [] for name in ports}
    for i in range(c1_rounds):
        for name in (list(ports) if i % 2 == 0 else list(ports)[::-1]):
            per[name].append(wrk(name, 1, c1_secs))
    return per

def cores_awake():
    """Ask the kernel to keep idle cores polling instead of halting (PM QoS
    latency 0) while the returned file stays open; None if not allowed."""
    try:
        fd = os.open("/dev/cpu_dma_latency", os.O_WRONLY)
    except OSError:
        return None
    os.write(fd, struct.pack("i", 0))
    return fd

idle = {n: mem_kib(proxy_pids(n), "VmRSS") for n in ("nginx", "vllm-mux")}
for name in ports:
    wrk(name, 64, 2)  # warm-up: connections, pools, caches
# Rounds interleave the targets, so drift on a shared machine hits them alike.
runs = {name: {"c64": []} for name in ports}
for _ in range(rounds):
    for name in ports:
        runs[name]["c64"].append(wrk(name, 64, duration))
c1 = {"halt": one_at_a_time()}
awake_fd = cores_awake()
if awake_fd is not None:
    c1["poll"] = one_at_a_time()
    os.close(awake_fd)
for name in ports:
    runs[name]["c1"] = c1["halt"][name]
results = {name: {c: median_run(runs[name][c]) for c in ("c1", "c64")} for name in ports}

def median_streams(runs):
    """Medians of interleaved rounds of streams; errors summed."""
    keys = ("streams_per_s", "ttfb_p50_ms", "ttfb_p99_ms", "reads_per_stream", "events_per_stream")
    return {**{k: statistics.median(r[k] for r in runs) for k in keys}, "errors": sum(r["errors"] for r in runs)}

stream_runs = {name: {"s1": [], "s64": []} for name in ports}
for _ in range(rounds):
    for name in ports:
        stream_runs[name]["s1"].append(streams(name, 1, 30))
        stream_runs[name]["s64"].append(streams(name, 64, 320))
for name in ports:
    results[name].update({s: median_streams(stream_runs[name][s]) for s in ("s1", "s64")})
peak_before = {n: mem_kib(proxy_pids(n), "VmHWM") for n in ("nginx", "vllm-mux")}
big = {n: big_run(n) for n in ("nginx", "vllm-mux")}
peak = {n: mem_kib(proxy_pids(n), "VmHWM") for n in ("nginx", "vllm-mux")}

d, g, m = results["direct"], results["nginx"], results["vllm-mux"]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print("# Proxy benchmark\n")
print(f"`bash bench/proxy.sh` on {os.cpu_count()} cores ({cpu}), {time.strftime('%Y-%m-%d')}. Backend and load on core 0, proxy on core 1; "
      f"wrk 1 thread, {duration} s per run at 64 connections and {c1_secs} s at 1, median of {rounds} and {c1_rounds} interleaved rounds (CPU time over all of them); streams are 32 SSE events 5 ms apart, "
      f"30 one at a time and 320 at 64 concurrent per round, medians of {rounds} interleaved rounds. "
      f"Release build; vllm-mux with its defaults (CORS and metrics on).\n")
print("## Non-streaming\n")
print("| target | c | req/s | p50 ms | p99 ms | added p50 vs direct ms | vs nginx req/s | proxy CPU µs/req | load core busy |")
print("|---|---|---|---|---|---|---|---|---|")
for c in ("c1", "c64"):
    for name, r in results.items():
        x = r[c]
        added = x["p50"] - d[c]["p50"]
        ratio = x["rps"] / g[c]["rps"]
        cpu_us = f"{x['cpu_us']:.1f}" if x["cpu_us"] is not None else "-"
        print(f"| {name} | {c[1:]} | {x['rps']:.0f} | {x['p50']:.3f} | {x['p99']:.3f} | {added:+.3f} | {ratio:.2f}x | {cpu_us} | {x['load_busy'] * 100:.0f}% |")
print("\nLoad core busy is core 0, where wrk and the backend run. Near 100%, req/s is bounded by that core as much as by the proxy; proxy CPU µs/req is the proxy's own cost.")
print("\n## One request at a time\n")
print(f"{c1_rounds} rounds of {c1_secs} s per target, the order reversed every other round. `halt` is this machine as it is: "
      "a core with nothing to run halts, and waking it for the next step of a request costs a hypervisor round trip. "
      "`poll` repeats the rounds with idle cores polling (PM QoS latency 0 through /dev/cpu_dma_latency, for all targets alike), "
      "which leaves the proxy's own share of the latency.\n")
print("| idle cores | target | p50 ms (median of rounds) | added p50 vs direct ms | vllm-mux − nginx p50 per round µs: median (min … max) | the same: mean and 95% interval |")
print("|---|---|---|---|---|---|")
for state, per in c1.items():
    p50 = {name: statistics.median(r["p50"] for r in per[name]) for name in ports}
    diffs = [(a["p50"] - b["p50"]) * 1000 for a, b in zip(per["vllm-mux"], per["nginx"])]
    for name in ports:
        paired = interval = ""
        if name == "vllm-mux":
            paired = f"{statistics.median(diffs):+.1f} ({min(diffs):+.0f} … {max(diffs):+.0f})"
            low, high = mean_interval(diffs)
            interval = f"{statistics.mean(diffs):+.1f} ({low:+.1f} … {high:+.1f})"
        print(f"| {state} | {name} | {p50[name]:.3f} | {p50[name] - p50['direct']:+.3f} | {paired} | {interval} |")
print("\nWhere the 95% interval of the paired difference holds 0, this run cannot tell the two proxies apart at one request at a time.")
if "poll" not in c1:
    print("\n(`poll` skipped: /dev/cpu_dma_latency is not writable here.)")
print("\n## Streaming\n")
print("| target | c | streams/s | vs direct | TTFB p50 ms | TTFB p99 ms | reads/stream | events/stream | errors |")
print("|---|---|---|---|---|---|---|---|---|")
for s in ("s1", "s64"):
    for name, r in results.items():
        x = r[s]
        print(f"| {name} | {s[1:]} | {x['streams_per_s']:.1f} | {x['streams_per_s'] / d[s]['streams_per_s']:.3f} | {x['ttfb_p50_ms']:.2f} | {x['ttfb_p99_ms']:.2f} | {x['reads_per_stream']:.1f} | {x['events_per_stream']:.1f} | {x['errors']} |")
print("\n## Memory\n")
print("| proxy | idle RSS MiB | peak RSS before the 1000-stream run MiB | RSS at the start → highest during the run (50 ms samples) MiB | RSS after MiB | per stream KiB | peak RSS MiB | 1000 streams ok | errors |")
print("|---|---|---|---|---|---|---|---|---|")
for n in ("nginx", "vllm-mux"):
    b = big[n]
    print(f"| {n} | {idle[n] / 1024:.1f} | {peak_before[n] / 1024:.1f} | {b['before'] / 1024:.1f} → {b['max'] / 1024:.1f} | {b['after'] / 1024:.1f} | "
          f"{(b['max'] - b['before']) / 1000:.1f} | {peak[n] / 1024:.1f} | {b['ok']} | {b['errors']} |")
PY
