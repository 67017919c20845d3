"""How tests and benchmarks start the browser: Debian's Chromium, headless, with nothing that
reaches for the network on its own."""

EXECUTABLE_PATH = "/usr/bin/chromium"

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

LAUNCH = {"executable_path": EXECUTABLE_PATH, "args": ARGS, "headless": True}
