"""Real vLLM (CPU build) behind vllm-mux, driven by the official openai client.

Run by tests/real_vllm/run.sh after setup.sh. Every vLLM path of vllm-mux
against `vllm serve` itself, with the `vllm` engine (no wrapper):

  A. two models of one config behind the proxy: chat, completions, streams,
     embeddings (a clear OpenAI 404: SmolLM2 does not embed), vLLM's own
     loading line in `status` while it starts, vLLM's metrics through
     /upstream/, static and run-time LoRA adapters (lora add/list/remove,
     reload, a restart), then kill -9 of the supervisor: no vLLM process left;
  B. a port clash and a bad flag: `failed`, with vLLM's last line;
  C. a swap group of two real models with sleep mode, which vLLM refuses on
     CPU: started without it, swapped on request (stop and start), both
     answer; `stop` ends every vLLM process within its timeout.

Prints what it measured and "real-vllm: N passed, N failed"; exits non-zero
on any failure. Everything it starts is stopped, whatever fails.
"""

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import openai

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from real_common import Checks, free_port  # noqa: E402

BIN = os.environ["VLLM_MUX_BIN"]
ROOT = os.environ["VLLM_MUX_VLLM_CPU"]
MODEL = os.path.join(ROOT, "models", "smollm2-135m-instruct")
LORA_A = os.path.join(ROOT, "models", "smollm2-lora-a")
LORA_B = os.path.join(ROOT, "models", "smollm2-lora-b")
HOME = tempfile.mkdtemp(prefix="vllm-mux-real-vllm-")
ENV = dict(
    os.environ,
    VLLM_MUX_HOME=HOME,
    VLLM_MUX_VLLM=os.path.join(ROOT, "venv", "bin", "vllm"),
    HF_HUB_OFFLINE="1",
    TRANSFORMERS_OFFLINE="1",
    HF_HOME=os.path.join(ROOT, "hf-home"),
    VLLM_NO_USAGE_STATS="1",
    DO_NOT_TRACK="1",
    VLLM_CACHE_ROOT=os.path.join(ROOT, "vllm-cache"),
    # vLLM leaves its IPC sockets and vllm_dist_* files in TMPDIR.
    TMPDIR=os.path.join(ROOT, "tmp"),
)
ENV.pop("VLLM_CPU_KVCACHE_SPACE", None)
# What vLLM needs on a CPU: no CUDA graphs (compiling them takes minutes
# here), and a KV cache of a set size (else 90% of the host's memory).
CPU_FLAGS = ["--set", "enforce_eager=true", "--set", "kv_cache_memory_bytes=256M",
             "--set", "max_model_len=512", "--set", "dtype=bfloat16"]
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]

CHECKS = Checks()
check = CHECKS.check
measured = {}


def mux(config, *args, check=True, timeout=900):
    run = subprocess.run([BIN, "--config", config, *args], env=ENV, capture_output=True,
                         text=True, timeout=timeout)
    if check and run.returncode != 0:
        raise RuntimeError(f"vllm-mux {' '.join(args)} failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    return run


def status(config):
    run = mux(config, "--json", "status", check=False)
    return json.loads(run.stdout) if run.returncode == 0 else None


def model(report, name):
    return next(m for m in report["models"] if m["name"] == name)


def group(pgid):
    """Pids of every process in process group `pgid` (Linux)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def rss_mib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total / 1024


def vllm_groups(report):
    """The process groups of the report's running models (each guard leads one)."""
    return {m["name"]: m["pid"] for m in report["models"] if m["pid"]}


def wait_gone(pids, within):
    deadline = time.time() + within
    while time.time() < deadline:
        if not any(os.path.exists(f"/proc/{p}") and not zombie(p) for p in pids):
            return True
        time.sleep(0.2)
    return False


def zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def client(port):
    return openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", timeout=300, max_retries=0)


def ttft(c, name):
    """Seconds to the first streamed content of a chat answer."""
    begun = time.perf_counter()
    stream = c.chat.completions.create(model=name, messages=QUESTION, max_tokens=4, temperature=0, stream=True)
    first = None
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - begun
    return first


def start_watching(config, names, timeout=600):
    """`start --no-wait`, then poll status until every model settles;
    returns seconds to ready and every loading line status showed."""
    begun = time.time()
    mux(config, "start", "--no-wait")
    lines = set()
    ready = {}
    while time.time() - begun < timeout:
        report = status(config)
        if report:
            for m in report["models"]:
                if m["state"] == "starting" and m.get("detail"):
                    lines.add(m["detail"])
                if m["state"] in ("ready", "failed") and m["name"] not in ready:
                    ready[m["name"]] = (m["state"], time.time() - begun)
            if all(n in ready for n in names):
                break
        time.sleep(0.5)
    return ready, lines


# ---------------------------------------------------------------- A
def phase_a():
    proxy = free_port()
    ports = {"smol": free_port(), "smol2": free_port()}
    mux("a", "init", "--host", "127.0.0.1", "--port", str(proxy))
    mux("a", "add-model", "smol", "--model", MODEL, "--port", str(ports["smol"]),
        "--lora", f"adapter-a={LORA_A}", "--set", "max_lora_rank=8", *CPU_FLAGS)
    mux("a", "add-model", "smol2", "--model", MODEL, "--port", str(ports["smol2"]), "--alias", "gpt-4o-mini",
        *CPU_FLAGS)
    ready, lines = start_watching("a", ["smol", "smol2"])
    measured["two models: start to ready (s)"] = {n: round(t, 1) for n, (_, t) in ready.items()}

    def both_ready():
        assert all(s == "ready" for s, _ in ready.values()), ready
    check("A: two real vLLM models of one config become ready", both_ready)

    def loading_lines():
        # vLLM's own log lines ("INFO 12-03 ... [gpu_model_runner.py] ..."),
        # not only vllm-mux's.
        own = [l for l in lines if "INFO" in l or "WARNING" in l]
        assert own, f"status showed only: {sorted(lines)[:5]}"
        print(f"     e.g. status showed while starting: {own[0][:120]}")
    check("A: status shows the loading line from vLLM's own log while it starts", loading_lines)

    c = client(proxy)

    def chat():
        answer = c.chat.completions.create(model="smol", messages=QUESTION, max_tokens=12, temperature=0)
        assert "Paris" in answer.choices[0].message.content, answer
        alias = c.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, max_tokens=4)
        assert alias.choices[0].message.content, alias
    check("A: chat through the proxy, by name and by alias", chat)

    def completions():
        answer = c.completions.create(model="smol2", prompt="Once upon a time", max_tokens=8, temperature=0)
        assert answer.choices[0].text.strip(), answer
    check("A: text completions", completions)

    def streams():
        chunks = list(c.chat.completions.create(model="smol", messages=QUESTION, max_tokens=8, stream=True,
                                                stream_options={"include_usage": True}))
        text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        assert len(chunks) > 3 and text, chunks
        assert chunks[-1].usage is not None, chunks[-1]
        parts = list(c.completions.create(model="smol2", prompt="Hello", max_tokens=6, stream=True))
        assert len(parts) > 2, parts
    check("A: streamed chat (with usage) and completions", streams)

    def embeddings():
        try:
            c.embeddings.create(model="smol", input="hello")
        except openai.NotFoundError as err:
            body = err.body or {}
            assert body.get("code") == "unknown_url", body
            assert "model 'smol' does not serve POST /v1/embeddings" in body.get("message", ""), body
            return
        raise AssertionError("SmolLM2 made embeddings")
    check("A: embeddings from a model that cannot embed: a clear OpenAI 404", embeddings)

    def metrics():
        with urllib.request.urlopen(f"http://127.0.0.1:{proxy}/upstream/smol/metrics", timeout=30) as r:
            text = r.read().decode()
        assert "vllm:num_requests_running" in text and "vllm:generation_tokens_total" in text, text[:300]
    check("A: /upstream/smol/metrics returns vLLM's own metrics", metrics)

    def static_lora():
        answer = c.completions.create(model="adapter-a", prompt="Once upon a time", max_tokens=4, temperature=0)
        assert answer.model == "adapter-a" and answer.choices[0].text, answer
    check("A: a static LoRA adapter answers by its name", static_lora)

    def runtime_lora():
        out = mux("a", "lora", "add", "smol", "adapter-b", LORA_B).stdout
        assert "loaded at once on smol" in out, out
        answer = c.completions.create(model="adapter-b", prompt="Once upon a time", max_tokens=4, temperature=0)
        assert answer.choices[0].text, answer
        assert "adapter-b" in [m.id for m in c.models.list().data]
        listed = json.loads(mux("a", "--json", "lora", "list", "smol").stdout)
        assert {"adapter-a", "adapter-b"} == {l["name"] for l in listed}, listed
        assert all(l["loaded_on"] == ["smol"] for l in listed), listed
        pid = model(status("a"), "smol")["pid"]
        summary = json.loads(mux("a", "--json", "reload").stdout)
        assert "smol" in summary["unchanged"], summary
        assert model(status("a"), "smol")["pid"] == pid, "reload restarted it"
        out = mux("a", "lora", "remove", "smol", "adapter-b").stdout
        assert "unloaded at once on smol" in out, out
        try:
            c.completions.create(model="adapter-b", prompt="x", max_tokens=1)
            raise AssertionError("a removed adapter answered")
        except openai.NotFoundError as err:
            assert (err.body or {}).get("code") == "model_not_found", err.body
        bad = mux("a", "lora", "add", "smol", "bad", "/nonexistent/lora", check=False)
        assert bad.returncode == 2 and "could not load LoRA adapter 'bad'" in bad.stderr, bad.stderr
    check("A: lora add / list / reload / remove on a running vLLM", runtime_lora)

    def survives_restart():
        mux("a", "lora", "add", "smol", "adapter-b", LORA_B)
        mux("a", "stop", "smol")
        begun = time.time()
        mux("a", "start-model", "smol", "--timeout", "600")
        measured["one model: start-model to ready (s)"] = round(time.time() - begun, 1)
        answer = c.completions.create(model="adapter-b", prompt="Once upon a time", max_tokens=4, temperature=0)
        assert answer.choices[0].text, answer
        assert "adapter-b" in model(status("a"), "smol").get("lora_loaded", []), status("a")
    check("A: a run-time adapter survives a restart (loaded on the first request for it)", survives_restart)

    def latency():
        direct = client(ports["smol"])
        via, own = [], []
        for _ in range(5):
            own.append(ttft(direct, "smol"))
            via.append(ttft(c, "smol"))
        measured["stream TTFT, direct / through the proxy (median ms)"] = (
            round(statistics.median(own) * 1000, 1), round(statistics.median(via) * 1000, 1))
        measured["proxy added TTFT (median of differences, ms)"] = round(
            statistics.median(v - o for v, o in zip(via, own)) * 1000, 2)
    check("A: time to first token through the proxy and direct, in the same run", latency)

    report = status("a")
    supervisor = report["proxy"]["pid"]
    groups = vllm_groups(report)
    measured["RSS (MiB): supervisor / each vLLM server's process group"] = (
        round(rss_mib([supervisor]), 1), {n: round(rss_mib(group(g))) for n, g in groups.items()})

    def kill_supervisor():
        pids = [p for g in groups.values() for p in group(g)]
        assert len(pids) >= 6, f"guard, vllm serve, EngineCore and worker per model: {pids}"
        os.kill(supervisor, signal.SIGKILL)
        left = [p for p in pids if not wait_gone([p], 15)]
        assert not left, f"outlived the supervisor: {left}"
        run = mux("a", "status", check=False)
        assert run.returncode == 3 and "ended without being stopped" in run.stderr, run.stderr
        mux("a", "stop", check=False)
    check("A: kill -9 of the supervisor leaves no vLLM process (EngineCore, workers)", kill_supervisor)


# ---------------------------------------------------------------- B
def phase_b():
    proxy, clash, bad = free_port(), free_port(), free_port()
    mux("b", "init", "--host", "127.0.0.1", "--port", str(proxy))
    mux("b", "add-model", "clash", "--model", MODEL, "--port", str(clash), *CPU_FLAGS)
    mux("b", "add-model", "badflag", "--model", MODEL, "--port", str(bad), "--set", "no_such_flag=1", *CPU_FLAGS)
    mux("b", "start", "--no-wait")
    # Taken after start's check of the ports: vLLM binds its port when it
    # is about to serve, and finds it held.
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", clash))
    holder.listen(1)
    try:
        run = mux("b", "wait", "--timeout", "600", check=False)
        report = status("b")

        def failed_with_last_line():
            assert run.returncode == 1, run.stdout + run.stderr
            flag, port = model(report, "badflag"), model(report, "clash")
            assert flag["state"] == "failed" and "no-such-flag" in (flag["last_error"] or ""), flag
            assert port["state"] == "failed" and "Address already in use" in (port["last_error"] or ""), port
            print(f"     badflag: {flag['last_error'][:150]}")
            print(f"     clash:   {port['last_error'][:150]}")
        check("B: a port clash and a bad flag fail with vLLM's last line in last_error", failed_with_last_line)
    finally:
        holder.close()
        mux("b", "stop", check=False)


# ---------------------------------------------------------------- C
def phase_c():
    proxy = free_port()
    mux("c", "init", "--host", "127.0.0.1", "--port", str(proxy))
    for name in ("first", "second"):
        mux("c", "add-model", name, "--model", MODEL, "--port", str(free_port()), "--swap-group", "g",
            "--sleep-mode", *CPU_FLAGS)
    begun = time.time()
    mux("c", "start", "--timeout", "600")
    measured["swap group: start (with sleep mode refused) to ready (s)"] = round(time.time() - begun, 1)
    c = client(proxy)

    def falls_back():
        log = mux("c", "logs", "first", "-n", "100000").stdout
        assert log.count("vLLM refuses sleep mode here") == 1, log[-2000:]
        assert "Sleep mode is not supported on current platform" in log, log[-2000:]
        report = status("c")
        assert (model(report, "first")["state"], model(report, "second")["state"]) == ("ready", "idle"), report
    check("C: sleep mode refused on CPU: started without it, said once", falls_back)

    def swaps():
        begun = time.time()
        answer = c.chat.completions.create(model="second", messages=QUESTION, max_tokens=6, temperature=0)
        measured["swap group: a request that swaps the other in (s)"] = round(time.time() - begun, 1)
        assert answer.choices[0].message.content, answer
        report = status("c")
        assert (model(report, "first")["state"], model(report, "second")["state"]) == ("idle", "ready"), report
        assert model(report, "first")["pid"] is None, "stopped, not asleep"
        answer = c.chat.completions.create(model="first", messages=QUESTION, max_tokens=6, temperature=0)
        assert answer.choices[0].message.content, answer
    check("C: a swap group of two real vLLM models swaps on request and answers both", swaps)

    def stops_everything():
        report = status("c")
        pids = [p for g in vllm_groups(report).values() for p in group(g)]
        assert len(pids) >= 3, pids
        begun = time.time()
        mux("c", "stop", "--timeout", "30")
        took = time.time() - begun
        measured["stop of a running vLLM (s)"] = round(took, 1)
        left = [p for p in pids if not wait_gone([p], 1)]
        assert not left and took < 35, f"left {left} after {took:.1f} s"
    check("C: stop ends every vLLM process within its timeout", stops_everything)


def main():
    for phase in (phase_a, phase_b, phase_c):
        try:
            phase()
        except Exception as err:  # noqa: BLE001 - a phase that breaks is a failure, the next still runs
            CHECKS.fail(phase.__name__, err)
        finally:
            for config in ("a", "b", "c"):
                subprocess.run([BIN, "--config", config, "stop"], env=ENV, capture_output=True, timeout=120)
    print("measured:")
    for what, value in measured.items():
        print(f"  {what}: {value}")
    sys.exit(CHECKS.summary("real-vllm"))


if __name__ == "__main__":
    main()
