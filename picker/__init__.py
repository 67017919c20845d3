"""The pickstore picker: Python that runs in the browser. Modules at this level are pure and run
under CPython too; `web/` and the browser sources are the adapters that touch the page."""
