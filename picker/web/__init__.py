"""Browser adapters: the only modules of the picker that touch the page."""
