"""A store refuses to start with two locations that keep their files in the same folder or bucket:
each location's claims on keys are its own, so a store in one would replace the other's file at the
same key, across apps."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import config
from store.sqlite_index import SQLiteIndex
from store.state import StoreState


def opened(tmp_path: Path, locations: dict) -> StoreState:
    cfg = config.from_dict({"store": {"data_dir": str(tmp_path), "default_location": "a"}, "apps": {"demo": {"secret": "s"}},
                            "locations": locations})
    index = SQLiteIndex(tmp_path / "index.sqlite3")
    return StoreState.open(cfg, index, locks=index)


@pytest.mark.parametrize("second", [
    {"backend": "local", "root": "files"},  # the same folder
    {"backend": "local", "root": "files/inner"},  # a folder inside the other's
    {"backend": "local", "root": "other", "public": True, "public_root": "files"},  # its public folder
])
def test_two_local_locations_in_one_folder_are_refused(tmp_path, second):
    with pytest.raises(ValueError, match="locations 'a' and 'b' keep their files in the same place"):
        opened(tmp_path, {"a": {"backend": "local", "root": "files"}, "b": second})


def test_two_s3_locations_on_one_bucket_are_refused_and_on_two_buckets_allowed(tmp_path):
    s3 = {"backend": "s3", "endpoint_url": "http://127.0.0.1:9", "region": "us-east-1"}
    with pytest.raises(ValueError, match=r"s3://http://127.0.0.1:9/shared/"):
        opened(tmp_path, {"a": {**s3, "containers": ["own", "shared"]}, "b": {**s3, "containers": ["shared"]}})
    state = opened(tmp_path, {"a": {**s3, "containers": ["one"]}, "b": {**s3, "containers": ["two"]},
                              "c": {**s3, "endpoint_url": "http://127.0.0.1:10", "containers": ["one"]}})
    assert sorted(state.backends) == ["a", "b", "c"]


def test_locations_in_folders_of_their_own_start(tmp_path):
    state = opened(tmp_path, {"a": {"backend": "local", "root": "files"},
                              "b": {"backend": "local", "root": "files-two"}})  # a name that begins alike
    assert sorted(state.backends) == ["a", "b"]
