"""Credentials never shown: URLs and library messages with user:password are masked in
every log line, error and report."""

from __future__ import annotations

import re
import urllib.parse


def mask_url(url: str) -> str:
    """The URL with any user:password replaced by ***, for logs, errors and reports."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.username is None and parsed.password is None:
        return url
    host = parsed.hostname or ""
    if parsed.port:
        host += f":{parsed.port}"
    return urllib.parse.urlunsplit(parsed._replace(netloc=f"***@{host}"))


_CREDENTIALS_IN_TEXT = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/@'\"]+@")


def mask_credentials(text: str) -> str:
    """Every URL's user:password in free text (e.g. a library's error message) → ***."""
    return _CREDENTIALS_IN_TEXT.sub(r"\1***@", text)


def error_reason(error: BaseException) -> str:
    """A PyAV / OS error's reason without its file name: that may be a URL with credentials."""
    return getattr(error, "strerror", None) or type(error).__name__
