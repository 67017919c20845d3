"""The arguments of pickAndStore / pick / pickMultiple: which argument lands in which slot, and how
picker and store options are validated and normalised (picker/options.py, pure CPython)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from picker.fperror import BAD_PARAMETERS, FPError
from picker.options import (
    OPTIONS,
    PICKER_KEYS,
    STORE_KEYS,
    Fills,
    NotYet,
    PickerOptions,
    StoreOptions,
    parse_call,
    parse_picker_options,
    parse_store_options,
    split_call,
)


def on_success(value):
    return ("success", value)


def on_error(value):
    return ("error", value)


def on_progress(value):
    return ("progress", value)


# --- split_call / parse_call: argument slots ---------------------------------------------------


def test_pick_and_store_with_every_argument_fills_every_slot():
    picker, store = {"mimetype": "image/*"}, {"location": "S3"}
    split = split_call("pickAndStore", [picker, store, on_success, on_error, on_progress])
    assert split.picker == picker
    assert split.store == store
    assert (split.on_success, split.on_error, split.on_progress) == (on_success, on_error, on_progress)


def test_pick_and_store_without_store_options_moves_callbacks_left():
    split = split_call("pickAndStore", [{"mimetype": "image/*"}, on_success, on_error, on_progress])
    assert split.picker == {"mimetype": "image/*"}
    assert split.store == {}
    assert (split.on_success, split.on_error, split.on_progress) == (on_success, on_error, on_progress)


def test_pick_and_store_without_any_options_takes_callbacks_from_the_first_argument():
    split = split_call("pickAndStore", [on_success, on_error, on_progress])
    assert split.picker == {}
    assert split.store == {}
    assert (split.on_success, split.on_error, split.on_progress) == (on_success, on_error, on_progress)


def test_pick_has_one_options_slot_so_its_second_argument_is_on_success():
    split = split_call("pick", [{"mimetype": "image/*"}, on_success, on_error, on_progress])
    assert split.picker == {"mimetype": "image/*"}
    assert split.store == {}
    assert (split.on_success, split.on_error, split.on_progress) == (on_success, on_error, on_progress)


def test_pick_does_not_take_a_second_options_object_as_store_options():
    # pick(picker_options, onSuccess, ...) has no store slot: a second object is in the onSuccess
    # slot and, not being callable, means "no onSuccess"; the callbacks do not shift.
    split = split_call("pick", [{"multiple": True}, {"location": "S3"}, on_error, on_progress])
    assert split.store == {}
    assert split.on_success is None
    assert split.on_error is on_error
    assert split.on_progress is on_progress


def test_pick_multiple_has_the_same_slots_as_pick():
    split = split_call("pickMultiple", [on_success, on_error])
    assert split.picker == {}
    assert (split.on_success, split.on_error, split.on_progress) == (on_success, on_error, None)


def test_none_options_count_as_empty_options_and_keep_their_slots():
    split = split_call("pickAndStore", [None, None, on_success, on_error, on_progress])
    assert split.picker == {}
    assert split.store == {}
    assert (split.on_success, split.on_error, split.on_progress) == (on_success, on_error, on_progress)


def test_none_picker_options_with_store_options():
    split = split_call("pickAndStore", [None, {"location": "S3"}, on_success])
    assert split.picker == {}
    assert split.store == {"location": "S3"}
    assert split.on_success is on_success


def test_a_none_callback_keeps_its_position():
    split = split_call("pickAndStore", [{}, {}, None, on_error])
    assert split.on_success is None
    assert split.on_error is on_error
    assert split.on_progress is None


def test_missing_callbacks_are_none():
    split = split_call("pickAndStore", [{}])
    assert (split.on_success, split.on_error, split.on_progress) == (None, None, None)


def test_split_call_does_not_fail_on_bad_options_so_on_error_can_still_be_found():
    split = split_call("pickAndStore", ["image/*", 42, on_success, on_error])
    assert split.on_error is on_error
    with pytest.raises(FPError) as caught:
        parse_call("pickAndStore", ["image/*", 42, on_success, on_error])
    assert caught.value.code == BAD_PARAMETERS


def test_parse_call_returns_typed_options_and_the_callbacks():
    call = parse_call(
        "pickAndStore",
        [{"mimetype": "image/*", "multiple": True}, {"location": "S3", "storeContainer": "photos"},
         on_success, on_error, on_progress],
    )
    assert call.method == "pickAndStore"
    assert call.picker.mimetypes == ("image/*",)
    assert call.picker.multiple is True
    assert call.store.location == "S3"
    assert call.store.container == "photos"
    assert (call.on_success, call.on_error, call.on_progress) == (on_success, on_error, on_progress)
    assert call.warnings == ()


def test_parse_call_with_no_arguments_gives_defaults():
    call = parse_call("pickAndStore", [])
    assert call.picker == PickerOptions()
    assert call.store == StoreOptions()
    assert call.warnings == ()


# --- parse_picker_options -----------------------------------------------------------------------


def test_container_defaults_to_modal():
    assert parse_picker_options({}).container == "modal"


def test_container_modal_is_accepted():
    assert parse_picker_options({"container": "modal"}).container == "modal"


@pytest.mark.parametrize("value", [42, True, ["modal"]])
def test_a_container_that_is_not_a_string_is_a_400_naming_the_option(value):
    with pytest.raises(FPError) as caught:
        parse_picker_options({"container": value})
    assert caught.value.code == BAD_PARAMETERS
    assert "container" in caught.value.message
    assert repr(value) in caught.value.message


def test_mimetype_as_a_string():
    assert parse_picker_options({"mimetype": "image/*"}).mimetypes == ("image/*",)


def test_mimetypes_as_a_list():
    assert parse_picker_options({"mimetypes": ["image/*", "text/plain"]}).mimetypes == ("image/*", "text/plain")


def test_mimetypes_as_a_comma_separated_string_with_spaces():
    assert parse_picker_options({"mimetypes": "image/png, text/plain ,"}).mimetypes == ("image/png", "text/plain")


def test_mimetype_and_mimetypes_together_are_combined():
    options = parse_picker_options({"mimetype": "image/*", "mimetypes": ["video/*"]})
    assert options.mimetypes == ("image/*", "video/*")


def test_mimetypes_are_lower_cased():
    assert parse_picker_options({"mimetypes": ["Image/PNG", "TEXT/*"]}).mimetypes == ("image/png", "text/*")


@pytest.mark.parametrize("value", [42, ["image/*", 3], {"type": "image/*"}])
def test_mimetypes_of_the_wrong_type_are_a_400_naming_the_option(value):
    with pytest.raises(FPError) as caught:
        parse_picker_options({"mimetypes": value})
    assert caught.value.code == BAD_PARAMETERS
    assert "mimetypes" in caught.value.message


def test_extension_without_a_dot_gets_one():
    assert parse_picker_options({"extension": "pdf"}).extensions == (".pdf",)


def test_extensions_as_a_list_are_normalised_to_lower_case_with_a_dot():
    assert parse_picker_options({"extensions": [".JS", "coffee", ".tar.gz"]}).extensions == (".js", ".coffee", ".tar.gz")


def test_extensions_as_a_comma_separated_string():
    assert parse_picker_options({"extensions": ".png,jpg"}).extensions == (".png", ".jpg")


def test_mimetype_and_extension_together_are_a_400():
    with pytest.raises(FPError) as caught:
        parse_picker_options({"mimetype": "image/*", "extension": ".pdf"})
    assert caught.value.code == BAD_PARAMETERS
    assert "mimetype" in caught.value.message
    assert "extension" in caught.value.message


def test_mimetypes_and_extensions_plural_together_are_a_400():
    with pytest.raises(FPError) as caught:
        parse_picker_options({"mimetypes": ["image/*"], "extensions": [".pdf"]})
    assert caught.value.code == BAD_PARAMETERS


def test_empty_mimetype_does_not_conflict_with_extension():
    options = parse_picker_options({"mimetype": "", "extension": ".pdf"})
    assert options.mimetypes == ()
    assert options.extensions == (".pdf",)


def test_multiple_defaults_to_false():
    assert parse_picker_options({}).multiple is False


@pytest.mark.parametrize(
    "value, expected",
    [(True, True), (False, False), ("true", True), ("false", False), ("TRUE", True), ("False", False),
     (1, True), (0, False), ("1", True), ("0", False)],
)
def test_multiple_as_a_bool_a_true_false_string_or_1_and_0(value, expected):
    assert parse_picker_options({"multiple": value}).multiple is expected


@pytest.mark.parametrize("value", ["yes", "2", 2, -1, 0.5, []])
def test_an_invalid_multiple_is_a_400_naming_the_option(value):
    with pytest.raises(FPError) as caught:
        parse_picker_options({"multiple": value})
    assert caught.value.code == BAD_PARAMETERS
    assert "multiple" in caught.value.message


def test_pick_forces_multiple_false():
    assert parse_picker_options({"multiple": True}, method="pick").multiple is False


def test_pick_multiple_forces_multiple_true():
    assert parse_picker_options({"multiple": False}, method="pickMultiple").multiple is True
    assert parse_picker_options({}, method="pickMultiple").multiple is True


def test_pick_and_store_honours_multiple():
    assert parse_picker_options({"multiple": "true"}, method="pickAndStore").multiple is True


def test_language_policy_and_signature_are_kept():
    options = parse_picker_options({"language": "es", "policy": "eyJ4Ijox", "signature": "ab12"})
    assert (options.language, options.policy, options.signature) == ("es", "eyJ4Ijox", "ab12")


def test_a_non_string_policy_is_a_400_naming_the_option():
    with pytest.raises(FPError) as caught:
        parse_picker_options({"policy": {"expiry": 1}})
    assert caught.value.code == BAD_PARAMETERS
    assert "policy" in caught.value.message


def bad(options: dict, *words: str, method: str = "pickAndStore") -> None:
    """Parsing `options` is a 400 whose message has every one of `words`."""
    with pytest.raises(FPError) as caught:
        parse_picker_options(options, method=method)
    assert caught.value.code == BAD_PARAMETERS
    for word in words:
        assert word in caught.value.message


@pytest.mark.parametrize("name, field", [("maxSize", "max_size"), ("maxFiles", "max_files")])
def test_limits_are_unset_by_default(name, field):
    assert getattr(parse_picker_options({}), field) is None


@pytest.mark.parametrize("value", [10485760, "10485760", " 10485760 ", "+10485760", 10485760.0])
def test_max_size_as_a_number_or_a_string_of_one(value):
    assert parse_picker_options({"maxSize": value}).max_size == 10485760


@pytest.mark.parametrize("value", [0, -1, "-5", "10MB", "1.5", 1.5, True, [1], {"mb": 1}])
def test_an_invalid_max_size_is_a_400_naming_the_option(value):
    bad({"maxSize": value}, "'maxSize'", "whole number from 1")


@pytest.mark.parametrize("value, expected", [(5, 5), ("5", 5), (1, 1)])
def test_max_files_as_a_number_or_a_string_of_one(value, expected):
    assert parse_picker_options({"maxFiles": value}).max_files == expected


@pytest.mark.parametrize("value", [0, -2, "many", 2.5, False])
def test_an_invalid_max_files_is_a_400_naming_the_option(value):
    bad({"maxFiles": value}, "'maxFiles'")


@pytest.mark.parametrize(
    "options, method, expected",
    [
        ({"folders": True, "multiple": True}, "pickAndStore", True),
        ({"folders": "true", "multiple": True}, "pickAndStore", True),
        ({"folders": True}, "pickMultiple", True),
        ({"folders": True}, "pickAndStore", False),  # only with multiple, as the reference says
        ({"folders": True}, "pick", False),
        ({"multiple": True}, "pickAndStore", False),  # off by default
    ],
)
def test_folders_are_on_only_when_asked_for_with_multiple(options, method, expected):
    assert parse_picker_options(options, method=method).folders is expected


def test_an_invalid_folders_is_a_400_naming_the_option():
    bad({"folders": "sometimes", "multiple": True}, "'folders'")


@pytest.mark.parametrize("open_to", [3, {"name": "COMPUTER"}])
def test_an_open_to_that_is_no_name_is_a_400_naming_the_option(open_to):
    bad({"openTo": open_to}, "'openTo'", "COMPUTER")


@pytest.mark.parametrize("value, expected", [(None, True), (True, True), (False, False), ("false", False)])
def test_background_upload_is_on_unless_turned_off(value, expected):
    assert parse_picker_options({"backgroundUpload": value}).background_upload is expected


def test_an_invalid_background_upload_is_a_400_naming_the_option():
    bad({"backgroundUpload": "later"}, "'backgroundUpload'")


@pytest.mark.parametrize(
    "options, mobile, expected",
    [
        ({}, False, False),
        ({"hide": True}, False, True),
        ({"hide": "true", "container": "modal"}, True, True),
        # The reference: hide "works only for modal mode".
        ({"hide": True, "container": "window"}, False, False),
        ({"hide": True, "container": "picker-frame"}, False, False),
        ({"hide": True}, True, False),  # a phone's default container is a window
    ],
)
def test_hide_applies_to_the_modal_only(options, mobile, expected):
    assert parse_picker_options(options, mobile=mobile).hide is expected


def test_an_invalid_hide_is_a_400_naming_the_option():
    bad({"hide": "yes"}, "'hide'")


def test_webcam_defaults_are_the_references():
    webcam = parse_picker_options({}).webcam
    assert (webcam.video_res, webcam.audio_len, webcam.video_len, webcam.dim) == ("640x480", 3600, 3600, None)


def test_webcam_values_as_numbers_or_strings():
    options = parse_picker_options({"webcam": {"videoRes": "1280x720", "audioLen": "120", "videoLen": 5400}, "webcamDim": [1280, 720]})
    webcam = options.webcam
    assert (webcam.video_res, webcam.audio_len, webcam.video_len, webcam.dim) == ("1280x720", 120, 5400, (1280, 720))


def test_webcam_dim_may_also_sit_inside_webcam():
    assert parse_picker_options({"webcam": {"webcamDim": ["640", 480]}}).webcam.dim == (640, 480)


@pytest.mark.parametrize(
    "options, words",
    [
        ({"webcam": {"videoRes": "800x600"}}, ["webcam.videoRes", "'320x240'", "'640x480'", "'1280x720'"]),
        ({"webcam": {"audioLen": 0}}, ["'audioLen'", "1 to 5400"]),
        ({"webcam": {"videoLen": "5401"}}, ["'videoLen'", "1 to 5400"]),
        ({"webcam": "on"}, ["'webcam'"]),
        ({"webcamDim": [1280]}, ["'webcamDim'"]),
        ({"webcamDim": [0, 720]}, ["'width'"]),
    ],
)
def test_an_invalid_webcam_value_is_a_400_naming_it(options, words):
    bad(options, *words)


def test_a_non_string_language_is_a_400_naming_the_option():
    bad({"language": ["es"]}, "'language'")


# --- parse_store_options ------------------------------------------------------------------------


def test_store_options_map_to_their_fields():
    store = parse_store_options(
        {"location": "S3", "path": "myfiles/", "storeContainer": "user-photos",
         "storeRegion": "us-east-1", "access": "public"}
    )
    assert store == StoreOptions(
        location="S3", path="myfiles/", container="user-photos", region="us-east-1", access="public"
    )


def test_store_options_left_out_are_none():
    assert parse_store_options({}) == StoreOptions(None, None, None, None, None)


def test_store_container_under_its_picker_name_is_not_the_store_container():
    # `container` is the picker's dialog placement; the bucket is `storeContainer`.
    assert parse_store_options({"container": "modal"}).container is None


def test_a_non_string_store_option_is_a_400_naming_the_option():
    with pytest.raises(FPError) as caught:
        parse_store_options({"storeRegion": 5})
    assert caught.value.code == BAD_PARAMETERS
    assert "storeRegion" in caught.value.message


# --- unknown keys and non-dict options ----------------------------------------------------------


def test_unknown_keys_are_warned_about_by_name_and_do_not_fail():
    call = parse_call("pickAndStore", [{"mimetyp": "image/*"}, {"bucket": "x"}, on_success])
    assert len(call.warnings) == 2
    assert any("'mimetyp'" in w for w in call.warnings)
    assert any("'bucket'" in w for w in call.warnings)
    assert call.picker.mimetypes == ()
    assert call.on_success is on_success


def test_an_unknown_key_in_both_objects_is_warned_about_once():
    call = parse_call("pickAndStore", [{"typo": 1}, {"typo": 2}])
    assert len(call.warnings) == 1
    assert "'typo'" in call.warnings[0]


def test_every_accepted_option_either_fills_a_field_or_is_marked_not_yet():
    accepted = PICKER_KEYS | STORE_KEYS
    assert sorted(accepted - set(OPTIONS)) == [], "accepted options with no entry in OPTIONS"
    assert sorted(set(OPTIONS) - accepted) == [], "entries in OPTIONS for options the parser does not accept"
    for name, effect in OPTIONS.items():
        if isinstance(effect, Fills):
            assert effect.field in {f.name for f in fields(effect.options)}, name
        else:
            assert isinstance(effect, NotYet) and effect.reason, name


@pytest.mark.parametrize("name", sorted(name for name, effect in OPTIONS.items() if isinstance(effect, NotYet)))
def test_an_option_that_does_nothing_yet_is_warned_about_by_name(name):
    value = {"webcam": {"videoRes": "1280x720"}, "webcamDim": [640, 480]}.get(name, "x")
    call = parse_call("pickAndStore", [{name: value}, {}])
    effect = OPTIONS[name]
    assert isinstance(effect, NotYet)
    assert [w for w in call.warnings if repr(name) in w] == [
        f"filepicker: option {name!r} is not supported yet and does nothing: {effect.reason}"
    ]


def test_options_the_picker_acts_on_do_not_warn():
    given = {"mimetype": "image/*", "multiple": True, "maxSize": 10, "maxFiles": 2, "openTo": "COMPUTER",
             "language": "en", "hide": True, "backgroundUpload": False, "policy": "p", "signature": "s"}
    assert parse_call("pickAndStore", [given, {"location": "S3", "storeRegion": "us-east-1", "access": "public"}]).warnings == ()


def test_known_keys_do_not_warn_in_either_object():
    call = parse_call("pickAndStore", [{"mimetype": "image/*", "location": "S3"}, {"path": "a/", "multiple": True}])
    assert call.warnings == ()


@pytest.mark.parametrize("method, args, name", [
    ("pickAndStore", ["image/*", {}], "picker_options"),
    ("pickAndStore", [{}, "S3"], "store_options"),
    ("pickAndStore", [[{"mimetype": "image/*"}]], "picker_options"),
    ("pick", [42, on_success], "picker_options"),
])
def test_options_that_are_not_an_object_are_a_400_naming_which(method, args, name):
    with pytest.raises(FPError) as caught:
        parse_call(method, args)
    assert caught.value.code == BAD_PARAMETERS
    assert name in caught.value.message


def test_a_bad_option_value_in_parse_call_is_a_400():
    with pytest.raises(FPError) as caught:
        parse_call("pickAndStore", [{"multiple": "sometimes"}, {}, on_success, on_error])
    assert caught.value.code == BAD_PARAMETERS
    assert "multiple" in caught.value.message


def test_the_container_defaults_to_a_window_on_a_phone_and_an_explicit_one_wins():
    assert parse_picker_options({}, mobile=True).container == "window"
    assert parse_picker_options({"container": "modal"}, mobile=True).container == "modal"
    assert parse_call("pickAndStore", [{}, {}], mobile=True).picker.container == "window"
