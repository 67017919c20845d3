"""FPError: the errors the picker reports through onError, with the reference's codes."""

CLOSED = 101  # the user closed the dialog without picking a file
BAD_PARAMETERS = 400
FORBIDDEN = 403


class FPError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"FPError {self.code}: {self.message}"

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}
