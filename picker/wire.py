"""The store options as they travel from the picker to the store in tus Upload-Metadata: one list
of keys that both halves read (the store imports this module, the browser loads it too)."""

from __future__ import annotations

FILENAME = "filename"
FILETYPE = "filetype"  # the file's MIME type, under the name tus clients give it
APIKEY = "apikey"
POLICY = "policy"
SIGNATURE = "signature"
LOCATION = "location"
PATH = "path"
CONTAINER = "container"
REGION = "region"
ACCESS = "access"
MULTIPLE = "multiple"

KEYS = (FILENAME, FILETYPE, APIKEY, POLICY, SIGNATURE, LOCATION, PATH, CONTAINER, REGION, ACCESS, MULTIPLE)

# A flag is sent as this value when set and left out when not.
TRUE = "true"


def flag(value: bool) -> str | None:
    return TRUE if value else None


def is_set(value: str | None) -> bool:
    return value == TRUE
