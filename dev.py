#!/usr/bin/env python3
"""Agent Spy's two everyday commands, needing nothing but Python 3.12+.

    python3 dev.py serve   # make .venv, install, migrate, serve on :8000 (SQLite)
    python3 dev.py test    # make .venv, install, run the whole test suite (pytest)
    python3 dev.py install # only make .venv and install (used by CI before linting)

Extra arguments after ``test`` go to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "requirements" / "dev.txt"
STAMP = VENV / ".requirements.sha256"


def ensure_venv() -> None:
    if sys.version_info < (3, 12):  # noqa: UP036 - run by any system python3
        sys.exit(
            f"Agent Spy needs Python 3.12 or newer, this is {sys.version.split()[0]}"
        )
    if not PYTHON.exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print("Installing requirements/dev.txt ...", flush=True)
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
        check=True,
    )
    STAMP.write_text(digest)


def run(*args: str) -> int:
    return subprocess.call([str(PYTHON), *args], cwd=ROOT)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "serve":
        ensure_venv()
        if run("manage.py", "migrate", "--no-input", "-v", "1"):
            return 1
        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        print(f"Agent Spy on http://localhost:{port}/  (API at /api/v1)", flush=True)
        return run("manage.py", "runserver", f"{host}:{port}")
    if command == "install":
        ensure_venv()
        return 0
    if command == "test":
        ensure_venv()
        return run("-m", "pytest", *argv[1:])
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
