"""Small helpers for building DOM nodes and keeping event listeners tidy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import create_proxy, to_js


def js_object(value: dict) -> Any:
    return to_js(value, dict_converter=js.Object.fromEntries)


def el(tag: str, attrs: dict[str, Any] | None = None, *children: Any) -> Any:
    """A new element; attrs set as attributes (True sets an empty one, None/False skip), children
    appended (strings become text)."""
    node = js.document.createElement(tag)
    for name, value in (attrs or {}).items():
        if value is True:
            node.setAttribute(name, "")
        elif value not in (None, False):
            node.setAttribute(name, str(value))
    for child in children:
        node.append(child)
    return node


class Listeners:
    """Event listeners added through it are removed, and their proxies freed, by `clear`."""

    def __init__(self) -> None:
        self._added: list[tuple[Any, str, Any]] = []

    def on(self, node: Any, event: str, handler: Callable[[Any], Any]) -> None:
        proxy = create_proxy(handler)
        node.addEventListener(event, proxy)
        self._added.append((node, event, proxy))

    def clear(self) -> None:
        for node, event, proxy in self._added:
            node.removeEventListener(event, proxy)
            proxy.destroy()
        self._added.clear()
