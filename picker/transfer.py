"""What the tus client decides around the engine (picker/engine.py) besides the requests: whether a
file goes in its creation request, which chunk to hash while another is sent, and when the page's
storage learns or forgets an upload's URL."""

from __future__ import annotations

from .engine import ComputeChecksum, Request, Upload

# A file up to this size goes in its creation request (tus creation-with-upload): one request, not
# two. Larger files are created first, so that a refusal comes before their bytes are sent.
WITH_CREATION = 1024 * 1024


def with_creation(size: int, chunk_size: int) -> bool:
    """Whether a file of `size` bytes is sent whole in the request that creates its upload."""
    return size <= min(chunk_size, WITH_CREATION)


def read_ahead(upload: Upload, request: Request) -> ComputeChecksum | None:
    """The checksum to compute while `request` is on its way: that of the chunk after the one it
    sends, which the engine asks for next. Reading and hashing a chunk takes tens of ms
    (bench/uploads.py) that would otherwise leave the connection idle. None when the upload has no
    checksums, or nothing follows."""
    end = request.file_slice[1] if request.file_slice else upload.size
    if not upload.checksum_algorithm or end >= upload.size:
        return None
    return ComputeChecksum(upload.checksum_algorithm, (end, min(end + upload.chunk_size, upload.size)))


class KeptUrl:
    """The upload URL the page's storage holds for one file, so that a reload resumes its upload."""

    def __init__(self, url: str | None) -> None:
        self.url = url

    def after_response(self, upload: Upload) -> bool:
        """Whether storage must now hold `url` (None: hold nothing), after the engine took a response.
        Only while there is something to resume (not for a file whose creation request carried it
        whole), and only when the URL changed: one storage write per upload, not one per chunk."""
        if upload.upload_url == self.url or upload.progress.done:
            return False
        self.url = upload.upload_url
        return True

    def done(self) -> bool:
        """Whether storage holds a URL to forget, now that the upload is done and nothing is left to resume."""
        held, self.url = self.url is not None, None
        return held
