"""Joining a Ray cluster from the driver, failing fast with one line: Ray itself retries an
unreachable address for minutes before it gives up."""

from __future__ import annotations

import socket

from yolact.errors import ConfigError, MissingDependencyError

REACH_TIMEOUT = 3.0  # seconds to open a TCP connection to the cluster's GCS port


def connect(address: str, *, needs: str = "--ray") -> None:
    """``ray.init`` on the cluster at ``address`` (``auto``: the one this machine is in, or
    ``host:port`` of its head); ConfigError naming the address when nothing answers there."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError(f"{needs} needs Ray: pip install 'yolact-stream[ray]'") from None
    if address != "auto" and "://" not in address:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"{needs} {address}: expected auto or HOST:PORT of the cluster's head")
        try:
            socket.create_connection((host, int(port)), timeout=REACH_TIMEOUT).close()
        except OSError as error:
            raise ConfigError(
                f"{needs} {address}: no Ray cluster answers there ({error.strerror or error}); "
                f"start one with: ray start --head --port {port}"
            ) from None
    try:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, logging_level="warning")
    except ConnectionError as error:
        raise ConfigError(f"{needs} {address}: cannot join the Ray cluster ({error})") from None
