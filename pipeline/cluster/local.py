"""A Ray cluster of several nodes on this one machine, for trying ``run --ray`` and for
the tests and benchmarks: each node a ``ray start --block`` in a session of its own (so
stopping it stops exactly what it started), with a custom resource ``node_<i>`` naming
it and, with ``pin``, its own cores (CPU affinity is inherited by the raylet and every
worker), which makes N nodes behave like N small machines rather than threads that all
share every core."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from yolact.errors import MissingDependencyError

RAY = str(Path(sys.executable).parent / "ray")
FAST_HEALTH = {"RAY_health_check_period_ms": "500", "RAY_health_check_failure_threshold": "3"}


class LocalCluster:
    def __init__(self, nodes: int = 2, *, cpus_per_node: int = 1, pin: bool = False, timeout: float = 60.0):
        try:
            import ray
        except ImportError:
            raise MissingDependencyError(
                "a Ray cluster needs Ray: pip install 'yolact-stream[ray]'"
            ) from None
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen] = []
        usable = sorted(os.sched_getaffinity(0))
        try:
            for index in range(nodes):
                cores = [usable[(index * cpus_per_node + k) % len(usable)] for k in range(cpus_per_node)]
                command = [RAY, "start", "--block", "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]
                command += ["--num-cpus", str(cpus_per_node), "--resources", f'{{"node_{index}": 1}}']
                command += (
                    ["--head", "--port", str(self.port), "--include-dashboard=false"]
                    if index == 0
                    else ["--address", self.address]
                )
                self.processes.append(
                    subprocess.Popen(
                        command,
                        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **FAST_HEALTH},
                        start_new_session=True,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        preexec_fn=(lambda cores=cores: os.sched_setaffinity(0, cores)) if pin else None,
                    )
                )
                if index == 0:
                    self._wait_for_head(timeout)
            ray.init(address=self.address, log_to_driver=False, logging_level="warning")
            deadline = time.monotonic() + timeout
            while len(self.alive_nodes()) < nodes:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {len(self.alive_nodes())} of {nodes} Ray nodes started")
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise

    def _wait_for_head(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if time.monotonic() > deadline or self.processes[0].poll() is not None:
                raise RuntimeError("the Ray head did not start")
            time.sleep(0.2)

    @staticmethod
    def alive_nodes() -> dict[str, str]:
        """Node id → its name (node_<i>), for the nodes alive now."""
        import ray

        names = {}
        for node in ray.nodes():
            if node["Alive"]:
                names[node["NodeID"]] = next((k for k in node["Resources"] if k.startswith("node_")), "?")
        return names

    def stop(self) -> None:
        import ray

        ray.shutdown()
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                pass
            try:  # whatever it started is in its session
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(10)

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _free_port() -> int:
    for port in range(24000, 30000, 7):  # outside Ray's default worker port range (10002-19999)
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port")
