"""The registry of services (picker/sources) and the `services` / `openTo` options as real pages
write them: the dialog shows the named services it has, in the page's order, and the page's author
hears about the rest in one warning (pure CPython)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from picker.fperror import BAD_PARAMETERS, FPError
from picker.options import parse_call, parse_picker_options
from picker.sources import AVAILABLE, MISSING, NEEDS_OAUTH, NOT_YET, UNKNOWN, why_missing


def test_every_available_service_names_a_module_that_defines_its_source():
    # The modules import the browser's `js`, so they are read rather than imported.
    for service in AVAILABLE.values():
        spec = importlib.util.find_spec(service.module)
        assert spec is not None and spec.origin is not None, service.module
        tree = ast.parse(Path(spec.origin).read_text())
        assert "source" in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}, service.module
        assert service.arrival in ("file", "import")


def test_a_service_is_either_available_or_missing_with_a_reason():
    assert set(AVAILABLE) & set(MISSING) == set()
    assert set(MISSING.values()) == {NOT_YET, NEEDS_OAUTH}
    assert why_missing("URL") == NOT_YET
    assert why_missing("DROPBOX") == NEEDS_OAUTH
    assert why_missing("DROPBOKS") == UNKNOWN


def test_services_default_to_every_available_one_opened_at_the_first():
    options = parse_picker_options({})
    assert (options.services, options.open_to) == (tuple(AVAILABLE), next(iter(AVAILABLE)))
    assert options.warnings == ()


@pytest.mark.parametrize("options", [{"service": "computer"}, {"services": ["COMPUTER", "Computer"]}, {"services": "COMPUTER"}])
def test_services_are_case_insensitive_and_named_once(options):
    assert parse_picker_options(options).services == ("COMPUTER",)


@pytest.mark.parametrize("open_to", ["COMPUTER", "computer", ["COMPUTER"], ["computer", "BOX"]])
def test_open_to_as_a_name_or_a_list_of_them(open_to):
    options = parse_picker_options({"services": ["COMPUTER"], "openTo": open_to})
    assert (options.open_to, options.warnings) == ("COMPUTER", ())


def test_services_we_lack_are_left_out_with_one_warning_saying_why():
    call = parse_call("pickAndStore", [{"services": ["URL", "COMPUTER", "FACEBOOK", "FACEBOK"], "openTo": "COMPUTER"}, {}])
    assert call.picker.services == ("COMPUTER",)
    assert call.picker.open_to == "COMPUTER"
    assert call.warnings == (
        "filepicker: services left out of the dialog: URL (not available yet), "
        "FACEBOOK (needs an OAuth app the operator has not configured), FACEBOK (unknown name: a typo?)",
    )


@pytest.mark.parametrize("open_to", ["URL", "NOPE", ["BOX"]])
def test_open_to_a_service_left_out_opens_the_first_shown_with_a_warning(open_to):
    call = parse_call("pickAndStore", [{"services": ["COMPUTER", "URL"], "openTo": open_to}, {}])
    assert call.picker.open_to == "COMPUTER"
    assert call.warnings[-1].startswith(f"filepicker: openTo {str(open_to[0] if isinstance(open_to, list) else open_to)!r}")
    assert call.warnings[-1].endswith("the dialog opens to COMPUTER")


def test_services_naming_none_we_have_are_a_400_naming_what_is_available():
    with pytest.raises(FPError) as caught:
        parse_picker_options({"services": ["URL", "DROPBOX", "NOPE"]})
    assert caught.value.code == BAD_PARAMETERS
    message = caught.value.message
    assert "'services'" in message
    assert "URL (not available yet)" in message and "DROPBOX (needs an OAuth app" in message and "NOPE (unknown name" in message
    assert message.endswith(f"available: {', '.join(AVAILABLE)}")
