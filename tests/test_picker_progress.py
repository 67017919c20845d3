"""FPProgress accounting (picker/progress.py, pure CPython): never backwards, 99 at most while bytes
are only in flight, 100 only once the store holds the whole file."""

from __future__ import annotations

import pytest

from picker.progress import IN_FLIGHT_CEILING, FileProgress


def progress(size: int = 1000) -> FileProgress:
    return FileProgress("photo.jpg", "image/jpeg", size)


def test_a_new_file_is_at_zero_and_not_done():
    p = progress()
    assert p.percent == 0.0
    assert p.done is False


def test_bytes_in_flight_count_towards_progress():
    p = progress(1000)
    p.sent(250)
    assert p.percent == pytest.approx(25.0)


def test_acknowledged_bytes_count_towards_progress():
    p = progress(1000)
    p.acknowledge(400)
    assert p.percent == pytest.approx(40.0)
    assert p.done is False


def test_acknowledged_plus_in_flight():
    p = progress(1000)
    p.acknowledge(400)
    p.sent(100)
    assert p.percent == pytest.approx(50.0)


def test_every_byte_sent_but_not_acknowledged_is_capped_at_99():
    p = progress(1000)
    p.sent(1000)
    assert p.percent == IN_FLIGHT_CEILING == 99.0
    assert p.done is False


def test_in_flight_beyond_the_file_size_is_still_capped_at_99():
    p = progress(1000)
    p.sent(5000)
    assert p.percent == 99.0


def test_in_flight_close_to_the_end_does_not_round_up_to_100():
    p = progress(1000)
    p.sent(999)
    assert p.percent == pytest.approx(99.0)
    assert p.percent < 100.0


def test_100_only_when_the_store_acknowledges_the_whole_file():
    p = progress(1000)
    p.acknowledge(999)
    assert p.percent < 100.0
    p.acknowledge(1000)
    assert p.done is True
    assert p.percent == 100.0


def test_an_acknowledgement_beyond_the_size_counts_as_the_whole_file():
    p = progress(1000)
    p.acknowledge(1200)
    assert p.acknowledged == 1000
    assert p.percent == 100.0


def test_a_retry_that_resends_fewer_bytes_does_not_go_backwards():
    p = progress(1000)
    p.sent(600)
    assert p.percent == pytest.approx(60.0)
    # The request failed; the retry starts again and has sent only 100 bytes so far.
    p.sent(100)
    assert p.percent == pytest.approx(60.0)
    p.sent(700)
    assert p.percent == pytest.approx(70.0)


def test_an_acknowledgement_below_what_was_in_flight_does_not_go_backwards():
    p = progress(1000)
    p.sent(900)
    assert p.percent == pytest.approx(90.0)
    # The store only kept 500 bytes of that request (acknowledge clears the in-flight count).
    p.acknowledge(500)
    assert p.in_flight == 0
    assert p.percent == pytest.approx(90.0)


def test_an_older_smaller_acknowledgement_does_not_lower_what_is_acknowledged():
    p = progress(1000)
    p.acknowledge(800)
    p.acknowledge(300)
    assert p.acknowledged == 800
    assert p.percent == pytest.approx(80.0)


def test_a_sequence_of_updates_is_monotonic():
    p = progress(1000)
    seen = []
    for step in [("sent", 100), ("sent", 400), ("sent", 50), ("ack", 300), ("sent", 20),
                 ("sent", 1000), ("ack", 200), ("sent", 0), ("ack", 1000)]:
        getattr(p, "sent" if step[0] == "sent" else "acknowledge")(step[1])
        seen.append(p.percent)
    assert seen == sorted(seen)
    assert seen[-1] == 100.0
    assert all(value < 100.0 for value in seen[:-1])


def test_a_negative_in_flight_count_is_treated_as_zero():
    p = progress(1000)
    p.sent(-50)
    assert p.in_flight == 0
    assert p.percent == 0.0


def test_event_carries_the_fpprogress_fields():
    p = FileProgress("report.pdf", "application/pdf", 2048)
    p.sent(512)
    assert p.event() == {"progress": pytest.approx(25.0), "filename": "report.pdf",
                         "mimetype": "application/pdf", "size": 2048}


def test_event_progress_is_a_float():
    p = progress(1000)
    assert isinstance(p.event()["progress"], float)
    p.acknowledge(1000)
    assert isinstance(p.event()["progress"], float)
    assert p.event()["progress"] == 100.0


def test_event_progress_never_goes_backwards_either():
    p = progress(1000)
    p.sent(700)
    first = p.event()["progress"]
    p.sent(10)
    assert p.event()["progress"] == first


# A 0-byte file: nothing to send, so progress cannot be a ratio of bytes. It is 0 until the store
# has answered for it and 100 afterwards, like any other file, and it never divides by zero.


def test_a_zero_byte_file_is_at_zero_and_not_done_before_the_store_answers():
    p = progress(0)
    assert p.done is False
    assert p.percent == 0.0
    assert p.event()["progress"] == 0.0


def test_a_zero_byte_file_in_flight_is_still_zero():
    p = progress(0)
    p.sent(0)
    assert p.percent == 0.0
    p.sent(10)  # nonsense from a transport, but must not divide by zero or overshoot
    assert p.percent == 0.0
    assert p.done is False


def test_a_zero_byte_file_is_100_once_acknowledged():
    p = progress(0)
    p.acknowledge(0)
    assert p.done is True
    assert p.percent == 100.0
    assert p.event() == {"progress": 100.0, "filename": "photo.jpg", "mimetype": "image/jpeg", "size": 0}


def test_a_resumed_file_constructed_with_every_byte_acknowledged_is_done():
    p = FileProgress("big.bin", "application/octet-stream", 1000, acknowledged=1000)
    assert p.done is True
    assert p.percent == 100.0
