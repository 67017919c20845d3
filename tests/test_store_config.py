"""Unit tests of store.config: apps, locations, environment overrides and TOML loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import config
from store.errors import StoreError

MINIMAL = {"apps": {"demo": {"secret": "s"}}}


# --- from_dict -----------------------------------------------------------------------------------


def test_from_dict_defaults_to_one_local_location_with_files_container():
    cfg = config.from_dict(MINIMAL)
    assert cfg.data_dir == Path("data")
    assert cfg.default_location == "local"
    assert list(cfg.locations) == ["local"]
    local = cfg.locations["local"]
    assert local.backend == "local"
    assert local.containers == ("files",)
    assert local.default_container == "files"
    assert cfg.public_url is None


def test_from_dict_app_key_defaults_to_table_name_and_origins_to_none():
    cfg = config.from_dict(MINIMAL)
    app = cfg.app("demo")
    assert app.key == "demo"
    assert app.secret == "s"
    assert app.allowed_origins == ()
    assert cfg.allowed_origins == []


def test_from_dict_explicit_app_key_replaces_table_name():
    cfg = config.from_dict({"apps": {"site": {"key": "K123", "secret": "s"}}})
    assert set(cfg.apps) == {"K123"}
    assert cfg.app("K123").secret == "s"
    with pytest.raises(StoreError):
        cfg.app("site")


def test_from_dict_app_without_secret_raises_value_error():
    with pytest.raises(ValueError, match="secret"):
        config.from_dict({"apps": {"demo": {"key": "demo"}}})


def test_from_dict_reads_store_section_and_location_settings():
    cfg = config.from_dict(
        {
            "store": {"data_dir": "/srv/pick", "default_location": "S3", "public_url": "https://f.example"},
            "apps": {"demo": {"secret": "s", "allowed_origins": ["https://a.example", "https://b.example"]}},
            "locations": {
                "S3": {"backend": "s3", "containers": ["bucket-a", "bucket-b"], "endpoint": "http://minio"},
                "local": {"backend": "local"},
            },
        }
    )
    assert cfg.data_dir == Path("/srv/pick")
    assert cfg.default_location == "s3"
    assert cfg.public_url == "https://f.example"
    s3 = cfg.locations["s3"]
    assert s3.name == "s3"
    assert s3.backend == "s3"
    assert s3.containers == ("bucket-a", "bucket-b")
    assert dict(s3.settings) == {"endpoint": "http://minio"}
    assert cfg.allowed_origins == ["https://a.example", "https://b.example"]


def test_from_dict_wildcard_origin_allows_every_origin():
    cfg = config.from_dict(
        {"apps": {"a": {"secret": "s", "allowed_origins": ["https://a.example"]}, "b": {"secret": "t", "allowed_origins": ["*"]}}}
    )
    assert cfg.allowed_origins == ["*"]


def test_from_dict_default_location_must_be_configured():
    with pytest.raises(ValueError, match="default_location"):
        config.from_dict({**MINIMAL, "store": {"default_location": "s3"}})


def test_from_dict_location_without_containers_is_refused():
    with pytest.raises(ValueError, match="containers"):
        config.from_dict({**MINIMAL, "locations": {"local": {"backend": "local", "containers": []}}})


# --- apps ------------------------------------------------------------------------------------------


def test_app_missing_key_is_400():
    cfg = config.from_dict(MINIMAL)
    for missing in (None, ""):
        with pytest.raises(StoreError) as info:
            cfg.app(missing)
        assert info.value.code == 400
        assert "API key" in info.value.message


def test_app_unknown_key_is_403_naming_the_key():
    cfg = config.from_dict(MINIMAL)
    with pytest.raises(StoreError) as info:
        cfg.app("nosuchkey")
    assert info.value.code == 403
    assert "nosuchkey" in info.value.message


# --- locations -------------------------------------------------------------------------------------


def test_location_lookup_is_case_insensitive():
    cfg = config.from_dict({**MINIMAL, "locations": {"Local": {"containers": ["files"]}, "azure": {"backend": "azure"}}})
    assert cfg.location("LOCAL").name == "local"
    assert cfg.location("Local").name == "local"
    assert cfg.location("AzUrE").name == "azure"


def test_location_none_is_the_default_location():
    cfg = config.from_dict(
        {**MINIMAL, "store": {"default_location": "second"}, "locations": {"first": {}, "second": {}}}
    )
    assert cfg.location(None).name == "second"
    assert cfg.location("").name == "second"


def test_unknown_location_is_400_listing_configured_locations():
    cfg = config.from_dict({**MINIMAL, "locations": {"local": {}, "azure": {"backend": "azure"}}})
    with pytest.raises(StoreError) as info:
        cfg.location("S3")
    assert info.value.code == 400
    assert "'S3'" in info.value.message
    assert "azure, local" in info.value.message


def test_location_container_defaults_to_first_and_refuses_others():
    cfg = config.from_dict({**MINIMAL, "locations": {"local": {"containers": ["files", "other-files"]}}})
    local = cfg.location("local")
    assert local.container(None) == "files"
    assert local.container("other-files") == "other-files"
    with pytest.raises(StoreError) as info:
        local.container("nope")
    assert info.value.code == 400
    assert "files, other-files" in info.value.message


# --- environment overrides -------------------------------------------------------------------------


def test_env_override_sets_nested_value():
    raw = {"apps": {"demo": {"key": "demo", "secret": "old"}}}
    config.apply_env_overrides(raw, {"PICKSTORE__apps__demo__secret": "xyz"})
    assert raw["apps"]["demo"]["secret"] == "xyz"
    assert raw["apps"]["demo"]["key"] == "demo"


def test_env_override_creates_missing_tables_and_lowercases_names():
    raw: dict = {}
    config.apply_env_overrides(raw, {"PICKSTORE__APPS__Demo__SECRET": "xyz"})
    assert raw == {"apps": {"demo": {"secret": "xyz"}}}


def test_env_override_parses_numbers_booleans_and_arrays():
    raw: dict = {}
    config.apply_env_overrides(
        raw,
        {
            "PICKSTORE__store__max_size": "1048576",
            "PICKSTORE__store__ratio": "0.5",
            "PICKSTORE__store__debug": "true",
            "PICKSTORE__locations__local__containers": '["a", "b"]',
        },
    )
    assert raw["store"]["max_size"] == 1048576 and type(raw["store"]["max_size"]) is int
    assert raw["store"]["ratio"] == 0.5
    assert raw["store"]["debug"] is True
    assert raw["locations"]["local"]["containers"] == ["a", "b"]


@pytest.mark.parametrize("secret", ["1234e567", "123456", "true", "2024-01-01"])
def test_env_secret_that_parses_as_non_string_is_refused_not_silently_converted(secret):
    raw = config.apply_env_overrides({}, {"PICKSTORE__apps__demo__secret": secret})
    with pytest.raises(ValueError, match="string"):
        config.from_dict(raw)


def test_env_secret_quoted_stays_a_string():
    raw = config.apply_env_overrides({}, {"PICKSTORE__apps__demo__secret": '"1234e567"'})
    assert config.from_dict(raw).app("demo").secret == "1234e567"


def test_env_override_keeps_unparsable_values_as_strings():
    raw: dict = {}
    config.apply_env_overrides(
        raw, {"PICKSTORE__store__data_dir": "/var/lib/pick", "PICKSTORE__store__public_url": "http://x:1/"}
    )
    assert raw["store"] == {"data_dir": "/var/lib/pick", "public_url": "http://x:1/"}


def test_env_override_ignores_other_variables_and_empty_paths():
    raw = {"apps": {"demo": {"secret": "s"}}}
    config.apply_env_overrides(raw, {"HOME": "/root", "PICKSTORE_CONFIG": "x.toml", "PICKSTORE__": "v", "apps__demo__secret": "no"})
    assert raw == {"apps": {"demo": {"secret": "s"}}}


# --- load ------------------------------------------------------------------------------------------

TOML = """
[store]
data_dir = "{data_dir}"
default_location = "local"

[apps.demo]
key = "demo"
secret = "from-file"
allowed_origins = ["https://site.example"]

[locations.local]
backend = "local"
root = "files"
containers = ["files", "other-files"]
"""


def test_load_reads_toml_file(tmp_path):
    path = tmp_path / "store.toml"
    path.write_text(TOML.format(data_dir=tmp_path / "data"))
    cfg = config.load(path, environ={})
    assert cfg.data_dir == tmp_path / "data"
    assert cfg.app("demo").secret == "from-file"
    assert cfg.app("demo").allowed_origins == ("https://site.example",)
    assert cfg.location("local").containers == ("files", "other-files")
    assert cfg.location("local").settings["root"] == "files"


def test_load_applies_env_overrides_on_top_of_file(tmp_path):
    path = tmp_path / "store.toml"
    path.write_text(TOML.format(data_dir=tmp_path / "data"))
    cfg = config.load(
        path,
        environ={
            "PICKSTORE__apps__demo__secret": "xyz",
            "PICKSTORE__locations__local__containers": '["only"]',
        },
    )
    assert cfg.app("demo").secret == "xyz"
    assert cfg.location("local").containers == ("only",)


def test_load_finds_file_through_pickstore_config_variable(tmp_path):
    path = tmp_path / "store.toml"
    path.write_text(TOML.format(data_dir=tmp_path / "data"))
    cfg = config.load(environ={"PICKSTORE_CONFIG": str(path)})
    assert cfg.app("demo").secret == "from-file"


def test_load_without_file_builds_config_from_env_alone():
    cfg = config.load(environ={"PICKSTORE__apps__demo__secret": "xyz"})
    assert cfg.app("demo").secret == "xyz"
    assert cfg.location(None).name == "local"


def test_load_config_missing_secret_raises_value_error(tmp_path):
    path = tmp_path / "store.toml"
    path.write_text('[apps.demo]\nkey = "demo"\n')
    with pytest.raises(ValueError, match="secret"):
        config.load(path, environ={})


# --- resumable uploads -------------------------------------------------------------------------------


def test_resumable_upload_limits_have_defaults():
    cfg = config.from_dict({})
    assert cfg.max_upload_size == 50 * 1024**3
    assert cfg.upload_expiry == 24 * 3600


def test_resumable_upload_limits_come_from_store_section_and_environment():
    raw = config.apply_env_overrides(
        {"store": {"max_upload_size": 1000}}, {"PICKSTORE__store__upload_expiry": "2.5"}
    )
    cfg = config.from_dict(raw)
    assert cfg.max_upload_size == 1000
    assert cfg.upload_expiry == 2.5


@pytest.mark.parametrize("setting, value", [
    ("max_upload_size", -1), ("max_upload_size", "10"), ("max_upload_size", 1.5), ("max_upload_size", True),
    ("upload_expiry", 0), ("upload_expiry", -5), ("upload_expiry", "1"),
])
def test_invalid_resumable_upload_limits_are_refused(setting, value):
    with pytest.raises(ValueError, match=setting):
        config.from_dict({"store": {setting: value}})
