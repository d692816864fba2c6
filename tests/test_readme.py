"""The README's two set-up commands are what users and CI run: keep them in sync."""

import re
import shlex
from pathlib import Path

import pytest

from pipeline.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_exactly_two_setup_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)


def test_ci_runs_the_readme_test_command():
    _, test_command = quick_start_commands()
    assert "pytest" in test_command
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_main_command_is_a_real_cli_invocation():
    main_command, _ = quick_start_commands()
    cli_part = shlex.split(main_command.rsplit("yolact-stream ", 1)[1])
    build_parser().parse_args(cli_part)  # exits (fails the test) on an unknown option


@pytest.mark.parametrize(
    "code", ["3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "130"]
)
def test_exit_code_table_is_documented(code):
    from pipeline.errors import EXIT_CODES

    assert int(code) in EXIT_CODES
    assert re.search(rf"^\| {code} \|", (ROOT / "README.md").read_text(), flags=re.M)
