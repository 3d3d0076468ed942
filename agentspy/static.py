"""WhiteNoise, told about STATIC_ROOT only once ``collectstatic`` has filled it.

``STATIC_ROOT`` is where ``collectstatic`` writes the compressed, cacheable
copies that production serves (``dev.py serve`` and the README's production
steps run it). Before that (a fresh checkout, the tests) the same files come
from the app directories through the finders (``WHITENOISE_USE_FINDERS``), so
a missing ``STATIC_ROOT`` is expected, not worth WhiteNoise's warning on every
start.
"""

from __future__ import annotations

import os

from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    def add_files(self, root: str | os.PathLike, prefix: str | None = None) -> None:
        if root == self.static_root and not os.path.isdir(root):
            return
        super().add_files(root, prefix)
