"""Run a tracing script with a given langsmith SDK in a clean child process.

Old SDK lines get their own virtualenv, built once from PyPI and cached under
``~/.cache/agentspy-sdk-venvs/`` (both database runs of CI reuse it).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson

SCRIPTS = Path(__file__).resolve().parent / "scripts"
CACHE = Path(
    os.environ.get("AGENTSPY_SDK_VENVS", Path.home() / ".cache" / "agentspy-sdk-venvs")
)

# The lines the protocol notes measured: 0.1.60 can only POST /runs/batch,
# 0.1.147 sends plain multipart, 0.4.60 zstd multipart (and patch-before-post).
OLD_LINES: dict[str, tuple[str, ...]] = {
    "langsmith-0.1.60": ("langsmith==0.1.60",),
    "langsmith-0.1.147": ("langsmith==0.1.147", "langchain-core==0.2.43"),
    "langsmith-0.4.60": ("langsmith==0.4.60", "langchain-core==1.6.10"),
}


def sdk_python(line: str) -> Path:
    """The python of a virtualenv holding that SDK line, built if missing."""
    specs = OLD_LINES[line]
    home = CACHE / line
    python = home / "bin" / "python"
    stamp = home / ".agentspy-specs"
    wanted = "\n".join(specs)
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{line}.lock", "w") as lock:
        # pytest-xdist workers or two CI runs may ask at once: build once.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and stamp.exists() and stamp.read_text() == wanted:
            return python
        shutil.rmtree(home, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            + list(specs),
            check=True,
            timeout=600,
        )
        stamp.write_text(wanted)
    return python


def tracing_env(
    url: str, project: str, *, spelling: str = "LANGCHAIN", api_key: str = "e2e-key"
) -> dict[str, str]:
    """Only what a user would export, so nothing of the test process leaks in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONUNBUFFERED": "1",
        f"{spelling}_ENDPOINT": url,
        f"{spelling}_API_KEY": api_key,
        f"{spelling}_PROJECT": project,
    }
    if spelling == "LANGCHAIN":
        env["LANGCHAIN_TRACING_V2"] = "true"
    else:
        env["LANGSMITH_TRACING"] = "true"
    return env


def run_script(
    script: str,
    env: dict[str, str],
    *,
    python: Path | str = sys.executable,
    timeout: float = 120,
) -> dict:
    """Run ``scripts/<script>``; return the JSON it prints on its last line."""
    done = subprocess.run(
        [str(python), str(SCRIPTS / script)],
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        raise AssertionError(
            f"{script} exited with {done.returncode}:\n{output}\n"
            + done.stderr.decode(errors="replace")[-4000:]
        )
    # An SDK warning on stderr means it dropped or failed to send something.
    errors = done.stderr.decode(errors="replace")
    assert "Failed to" not in errors and "Traceback" not in errors, errors[-4000:]
    return orjson.loads(output.strip().splitlines()[-1])
