"""``yolact-stream serve`` as a child process on a free loopback port, for HTTP tests:
started, waited for (bounded), always ended."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServeProcess:
    def __init__(self, *args: str, token: str | None = None, cwd=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        command = [sys.executable, "-m", "pipeline", "serve", "--port", str(self.port), *args]
        if token:
            command += ["--token", token]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited {self.process.returncode}: {self.process.stderr.read()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("serve did not become ready in 90 s")
            time.sleep(0.2)

    def signal(self, number: int, timeout: float = 60) -> tuple[int, str]:
        """Send a signal; the exit status and stderr once it has ended."""
        self.process.send_signal(number)
        _, stderr = self.process.communicate(timeout=timeout)
        return self.process.returncode, stderr

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()
