"""The README's Procfile lines for the second processes name real command options."""

import re
import shlex

import pytest
from django.core.management import load_command_class

from tests.live import ROOT


def procfile() -> dict[str, list[str]]:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```procfile\n", 1)[1].split("```", 1)[0]
    return {
        name: shlex.split(command)
        for name, command in re.findall(r"^(\w+): (.*)$", block, re.MULTILINE)
    }


@pytest.mark.parametrize(
    ("process", "app", "command"),
    [("otlp", "runs", "serve_otlp_grpc"), ("alerts", "alerts", "evaluate_alerts")],
)
def test_procfile_lines_parse_as_their_commands(process, app, command):
    words = procfile()[process]
    assert words[:3] == [".venv/bin/python", "manage.py", command]
    parser = load_command_class(app, command).create_parser("manage.py", command)
    parser.parse_args(words[3:])


def test_the_procfile_web_line_is_the_production_command():
    from tests.live import PRODUCTION_ARGS

    assert procfile()["web"] == ["gunicorn", *PRODUCTION_ARGS]
