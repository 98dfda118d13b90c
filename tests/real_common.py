"""What the real-server tests (tests/real_model, tests/real_vllm) share: a
free port, and checks that report every failure and keep going."""

import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn):
        """Run `fn`; an exception is a failure, said with `name`."""
        try:
            fn()
            self.passed += 1
            print(f"ok   {name}", flush=True)
        except Exception as err:  # noqa: BLE001 - report every failure, keep going
            self.fail(name, err)

    def fail(self, name, err):
        self.failed += 1
        print(f"FAIL {name}: {err!r}", flush=True)

    def summary(self, what):
        print(f"{what}: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0
