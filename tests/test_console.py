"""Status and progress lines: redrawn in place on a terminal, plain lines now and then on
a pipe or a file, nothing at all from a quiet console."""

import io

from pipeline import console as console_module
from pipeline.console import Console


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_pipe_gets_plain_lines_at_the_log_interval(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(console_module.time, "monotonic", lambda: now[0])
    stream = io.StringIO()
    console = Console(stream)
    calls = []

    def line():
        calls.append(1)
        return f"frame {len(calls)}"

    console.progress(line)  # within the interval: not even made
    now[0] += console_module.LOG_INTERVAL + 0.1
    console.progress(line)
    console.progress(line)  # again too soon
    console.progress(line, final=True)
    console.status("rtsp://cam: live")
    assert stream.getvalue() == "frame 1\nframe 2\nrtsp://cam: live\n"
    assert "\r" not in stream.getvalue() and len(calls) == 2


def test_a_terminal_redraws_in_place(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(console_module.time, "monotonic", lambda: now[0])
    stream = Terminal()
    console = Console(stream)
    now[0] += console_module.TERMINAL_INTERVAL + 0.01
    console.progress(lambda: "12 frames")
    console.status("interrupted")
    console.progress(lambda: "13 frames", final=True)
    assert stream.getvalue() == "\r12 frames" + "\r" + "interrupted".ljust(78) + "\n" + "\r13 frames\n"


def test_quiet_and_no_progress(capsys):
    stream = io.StringIO()
    Console(stream, progress=False).progress(lambda: "x", final=True)
    quiet = Console.quiet()
    quiet.status("nothing")
    quiet.progress(lambda: "nothing", final=True)
    assert stream.getvalue() == "" and capsys.readouterr() == ("", "")
