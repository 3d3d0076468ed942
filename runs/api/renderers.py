from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer

from runs.jsonnumbers import dumps


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Any = None,
    ) -> bytes:
        if data is None:
            return b""
        return dumps(data, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_UUID)
