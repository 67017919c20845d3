"""Which source a key moves to in the dialog's list of sources (picker/tablist.py, pure CPython)."""

from __future__ import annotations

import pytest

from picker.tablist import tab_for_key


@pytest.mark.parametrize("key", ["ArrowDown", "ArrowRight"])
def test_down_and_right_move_to_the_next_source_and_wrap_to_the_first(key):
    assert [tab_for_key(key, i, 3) for i in range(3)] == [1, 2, 0]


@pytest.mark.parametrize("key", ["ArrowUp", "ArrowLeft"])
def test_up_and_left_move_to_the_previous_source_and_wrap_to_the_last(key):
    assert [tab_for_key(key, i, 3) for i in range(3)] == [2, 0, 1]


def test_home_and_end_move_to_the_first_and_the_last_source():
    assert (tab_for_key("Home", 2, 3), tab_for_key("End", 0, 3)) == (0, 2)


@pytest.mark.parametrize("key", ["Tab", "Enter", " ", "a", "PageDown"])
def test_other_keys_do_not_move(key):
    assert tab_for_key(key, 1, 3) is None


def test_a_single_source_stays_where_it_is():
    assert [tab_for_key(k, 0, 1) for k in ("ArrowDown", "ArrowUp", "Home", "End")] == [0, 0, 0, 0]


def test_an_empty_list_has_nowhere_to_move():
    assert tab_for_key("ArrowDown", 0, 0) is None


def test_right_to_left_the_horizontal_arrows_swap():
    assert [tab_for_key("ArrowLeft", i, 3, right_to_left=True) for i in range(3)] == [1, 2, 0]
    assert [tab_for_key("ArrowRight", i, 3, right_to_left=True) for i in range(3)] == [2, 0, 1]
    assert [tab_for_key("ArrowDown", i, 3, right_to_left=True) for i in range(3)] == [1, 2, 0]
