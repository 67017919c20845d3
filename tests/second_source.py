"""SECOND: a source that exists only in the browser tests of the dialog's navigation (COMPUTER is
the only real source so far). It draws a line of text, counts `second:ping` events on the page
while it is shown, and counts on the page how often it was disposed of."""

from __future__ import annotations

from typing import Any

import js

from picker.web.dom import Listeners, el


def source(catalog: Any, options: Any) -> SecondSource:
    return SecondSource()


class SecondSource:
    def __init__(self) -> None:
        self.listeners = Listeners()

    def render(self, panel: Any, picked: Any, refuse: Any) -> None:
        panel.append(el("p", {"class": "second"}, "The second source"))
        self.listeners.on(js.document, "second:ping", lambda event: setattr(js.window, "secondPings", js.window.secondPings + 1))

    def dispose(self) -> None:
        self.listeners.clear()
        js.window.secondDisposed += 1
