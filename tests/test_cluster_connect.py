"""A --ray address where no cluster answers fails at once with one line (Ray alone retries
for minutes)."""

import socket
import time

import pytest

pytest.importorskip("ray", reason="needs Ray: pip install 'yolact-stream[ray]'")

from pipeline.cli import main  # noqa: E402
from pipeline.cluster.connect import connect  # noqa: E402
from yolact.errors import ConfigError  # noqa: E402


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the socket is closed


def test_nothing_answering_is_one_line_at_once():
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(ConfigError, match=rf"--ray 127.0.0.1:{port}: no Ray cluster answers there"):
        connect(f"127.0.0.1:{port}")
    assert time.monotonic() - started < 10
    with pytest.raises(ConfigError, match="expected auto or HOST:PORT"):
        connect("head-without-port")


@pytest.mark.parametrize("command", ["run", "serve"])
def test_cli_says_so_with_its_exit_code(command, tmp_path, capsys):
    port = closed_port()
    extra = (
        ["--source", "synthetic:64x48@30?frames=3", "--output", f"{tmp_path}/"]
        if command == "run"
        else ["--port", "0"]
    )
    code = main([command, "--ray", f"127.0.0.1:{port}", *extra])
    assert code == ConfigError.exit_code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no Ray cluster answers there" in err[0]
