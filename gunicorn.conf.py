"""gunicorn settings from Agent Spy's environment (see README "Production").

Read by ``gunicorn -c gunicorn.conf.py``: binds HOST:PORT and uses
REQUEST_TIMEOUT, so one set of variables configures the whole server. Flags on
the command line win over these values. gunicorn takes every public top-level
name here for a setting, so helpers are private.
"""

from pathlib import Path as _Path

from agentspy.config import load as _load

_cfg = _load(_Path(__file__).resolve().parent)

bind = f"{_cfg.host}:{_cfg.port}"
timeout = _cfg.request_timeout
graceful_timeout = _cfg.request_timeout
