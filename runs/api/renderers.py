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
        option = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_UUID
        # The browsable API asks for indented JSON (renderer_context["indent"]),
        # as does a client sending "Accept: application/json; indent=2".
        indent = (renderer_context or {}).get("indent") or _accept_indent(
            accepted_media_type
        )
        if indent:
            option |= orjson.OPT_INDENT_2
        return dumps(data, option=option)


def _accept_indent(media_type: str | None) -> bool:
    return bool(media_type) and "indent=" in media_type
