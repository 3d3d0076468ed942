"""What a wire decoder raises when a body cannot be decoded at all."""


class DecodeError(ValueError):
    """The body cannot be decoded at all; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
