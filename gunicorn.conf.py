"""gunicorn settings from Agent Spy's environment (see README "Production").

Read by ``gunicorn -c gunicorn.conf.py``: binds HOST:PORT and uses
REQUEST_TIMEOUT, so one set of variables configures the whole server. Flags on
the command line win over these values.
"""

from pathlib import Path

from agentspy import config

_cfg = config.load(Path(__file__).resolve().parent)

bind = f"{_cfg.host}:{_cfg.port}"
timeout = _cfg.request_timeout
graceful_timeout = _cfg.request_timeout
# Request lines and headers are small; bodies are read by the app with its caps.
limit_request_line = 8190
