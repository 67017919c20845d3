"""The tests: a package, so that pytest puts the project's root on sys.path (a bare `pytest` finds
`store`, `picker` and `harness` too). Imported before conftest.py imports the harness, which is
registered here so that its checks explain themselves when they fail, as a test's do."""

import pytest

pytest.register_assert_rewrite("harness")
