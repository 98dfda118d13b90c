"""More models than GPUs: the swap-group scheduler against llama-swap's
swap-per-request (`scheduler: llama-swap`), in one run, on mock engines
with a cold load of LOAD_MS, on fake GPUs. Run by bench/scheduler.sh.

Workloads:
  a. two agents in a loop, one on model A, one on model B, which share
     GPU 0 (each needs 0.45 of it);
  b. 4 clients drawing from 8 models by Zipf popularity (s=1.1), models
     0-3 sharing GPU 0 and 4-7 GPU 1 (each needs 0.45);
  c. a burst of 200 requests at once for one model, cold (another member
     of its group runs);
  a'. as a, but A and B need 0.9 of the GPU each: one at a time either
     way, so what batching alone does.

Each request is a chat completion of 10 tokens, 10 ms apart. Reported:
loads after the warm-up (each is a swap in), p50 and p99 end-to-end
latency, the longest wait, errors. Standard library only.
"""

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "vllm-mux"
LOAD_MS = int(os.environ.get("LOAD_MS", "1000"))
# Scaled with the load: 3 s of load and these at 3x are the defaults' spirit.
MIN_RESIDENCY_S = int(os.environ.get("MIN_RESIDENCY_S", "1"))
MAX_WAIT_S = int(os.environ.get("MAX_WAIT_S", "5"))
TOKENS = ["--set", "tokens=10", "--set", "token_delay_ms=10"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Config:
    """A throwaway VLLM_MUX_HOME with fake GPUs and one config `b`."""

    def __init__(self, scheduler, models, fraction="0.45"):
        self.home = tempfile.mkdtemp(prefix="vllm-mux-sched-")
        gpus = [{"index": i, "name": "Fake H100", "memory_total_mib": 81559, "memory_used_mib": 0,
                 "utilization_percent": 0} for i in range(2)]
        with open(os.path.join(self.home, "gpus.json"), "w") as f:
            json.dump(gpus, f)
        self.env = dict(os.environ, VLLM_MUX_HOME=self.home, VLLM_MUX_FAKE_GPUS=os.path.join(self.home, "gpus.json"))
        self.port = free_port()
        self.mux("init", "--host", "127.0.0.1", "--port", str(self.port))
        self.mux("edit-proxy", "--set", f"scheduler={scheduler}", "--set", f"min_residency_s={MIN_RESIDENCY_S}",
                 "--set", f"max_wait_s={MAX_WAIT_S}", "--set", "queue_timeout_s=120", "--set", "health_interval_ms=100")
        for name, gpu, group in models:
            self.mux("add-model", name, "--engine", "mock", "--port", str(free_port()), "--gpus", str(gpu),
                     "--swap-group", group, "--gpu-memory-utilization", fraction,
                     "--set", f"startup_delay_ms={LOAD_MS}", *TOKENS)
        self.mux("start", "--timeout", "120")

    def mux(self, *args):
        return subprocess.run([BIN, "--config", "b", *args], env=self.env, capture_output=True, text=True,
                              check=True, timeout=300)

    def loads(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as r:
            text = r.read().decode()
        return sum(float(l.split()[-1]) for l in text.splitlines()
                   if l.startswith("vllm_mux_model_load_seconds_count"))

    def chat(self, model):
        body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/v1/chat/completions", data=body,
                                         headers={"content-type": "application/json"})
        begun = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=300) as r:
                r.read()
                ok = r.status == 200
        except (urllib.error.URLError, OSError):
            ok = False
        return time.monotonic() - begun, ok

    def stop(self):
        subprocess.run([BIN, "--config", "b", "stop"], env=self.env, capture_output=True, timeout=120)


def run_clients(config, plans):
    """Each plan is a client's list of models, sent one after the other."""
    results = []
    lock = threading.Lock()

    def client(plan):
        for model in plan:
            took, ok = config.chat(model)
            with lock:
                results.append((took, ok))

    threads = [threading.Thread(target=client, args=(p,)) for p in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def summary(results, loads):
    times = sorted(t for t, _ in results)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return {"requests": len(times), "loads": int(loads), "p50_s": round(statistics.median(times), 3),
            "p99_s": round(p99, 3), "longest_s": round(times[-1], 3),
            "errors": sum(1 for _, ok in results if not ok)}


def workload_a(scheduler, fraction="0.45"):
    config = Config(scheduler, [("a", 0, "g"), ("b", 0, "g")], fraction)
    try:
        run_clients(config, [["a"], ["b"]])  # warm-up: both loaded once
        before = config.loads()
        results = run_clients(config, [["a"] * 30, ["b"] * 30])
        return summary(results, config.loads() - before)
    finally:
        config.stop()


def workload_a2(scheduler):
    """As a, but A and B do not fit together (0.9 of the GPU each): what
    batching alone does."""
    return workload_a(scheduler, "0.9")


def workload_b(scheduler):
    models = [(f"m{i}", 0 if i < 4 else 1, "g0" if i < 4 else "g1") for i in range(8)]
    config = Config(scheduler, models)
    rng = random.Random(7)
    weights = [1 / (k + 1) ** 1.1 for k in range(8)]
    plans = [[f"m{rng.choices(range(8), weights)[0]}" for _ in range(25)] for _ in range(4)]
    try:
        run_clients(config, [["m0"], ["m4"]])
        before = config.loads()
        results = run_clients(config, plans)
        return summary(results, config.loads() - before)
    finally:
        config.stop()


def workload_c(scheduler):
    config = Config(scheduler, [("hot", 0, "g"), ("cold", 0, "g"), ("other", 0, "g")])
    try:
        # "hot" runs (the first member starts); "cold" has never loaded.
        before = config.loads()
        results = run_clients(config, [["cold"] for _ in range(200)])
        return summary(results, config.loads() - before)
    finally:
        config.stop()


def main():
    print(f"mock loads of {LOAD_MS} ms; min_residency_s={MIN_RESIDENCY_S}, max_wait_s={MAX_WAIT_S}", flush=True)
    rows = []
    for name, workload in [("a. two agents, A and B", workload_a), ("b. Zipf over 8 models, 2 GPUs", workload_b),
                           ("c. burst of 200 for a cold model", workload_c),
                           ("a'. as a, A and B not fitting together", workload_a2)]:
        for scheduler in ["llama-swap", "batch"]:
            result = workload(scheduler)
            rows.append((name, scheduler, result))
            print(name, scheduler, result, flush=True)
    print()
    print("| workload | scheduler | requests | loads (swaps) | p50 s | p99 s | longest s | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for name, scheduler, r in rows:
        print(f"| {name} | {scheduler} | {r['requests']} | {r['loads']} | {r['p50_s']} | {r['p99_s']} | "
              f"{r['longest_s']} | {r['errors']} |")
    by = {(n, s): r for n, s, r in rows}
    a_old, a_new = by[(rows[0][0], "llama-swap")], by[(rows[0][0], "batch")]
    b_old, b_new = by[(rows[2][0], "llama-swap")], by[(rows[2][0], "batch")]
    c_new = by[(rows[4][0], "batch")]
    print()
    print(f"a: swaps {a_old['loads']} -> {a_new['loads']}; p99 {a_old['p99_s']} -> {a_new['p99_s']} s "
          f"({a_old['p99_s'] / max(a_new['p99_s'], 1e-9):.1f}x lower)")
    print(f"b: p99 {b_old['p99_s']} -> {b_new['p99_s']} s")
    print(f"c: batch loads {c_new['loads']}, errors {c_new['errors']}")
    bound = MAX_WAIT_S + LOAD_MS / 1000 + 1.0
    worst = max(r["longest_s"] for n, s, r in rows if s == "batch")
    print(f"longest wait with batch: {worst} s (bound max_wait_s + one load + service: {bound} s)")


if __name__ == "__main__":
    main()
