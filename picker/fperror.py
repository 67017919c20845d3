"""FPError: the errors the picker reports through onError, with the reference's codes."""

CLOSED = 101  # the user closed the dialog without picking a file
BAD_PARAMETERS = 400
FORBIDDEN = 403
FAILED = 500  # the picker itself failed: a fault in its code, never the user's


class FPError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"FPError {self.code}: {self.message}"


class Unreadable(FPError):
    """The browser can no longer read a picked file: it changed, moved or went away on disk after
    it was picked (browsers refuse to read a file whose modification time changed)."""

    def __init__(self, filename: str) -> None:
        super().__init__(BAD_PARAMETERS, f"{filename} changed or went away after it was picked: pick it again")
        self.filename = filename
