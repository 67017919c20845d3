"""The loader's `filepicker._io` (static/filepicker.js), which the picker's uploads call once per
request and once per chunk checksum, in Chromium: digests equal hashlib's, chunks are read into one
reused buffer, and requests answer with status, headers and body or fail as "no answer"."""

from __future__ import annotations

import hashlib

import pytest

from harness.browser import launch
from harness.host_pages import run_host_pages

MiB = 1024 * 1024


@pytest.fixture
def io_page(page, host):
    page.goto(f"{host.url}/loader.html")
    return page


def test_digests_of_chunks_equal_hashlibs_and_reuse_one_buffer(io_page, source):
    path, data = source
    io_page.set_input_files("#file", str(path))
    result = io_page.evaluate("""async () => {
      const file = document.getElementById('file').files[0];
      const io = window.filepicker._io, holder = {};
      const chunk = 1024 * 1024, out = [], sizes = [];
      let buffers = new Set();
      for (let o = 0; o < file.size; o += chunk) {
        out.push([await io.digest(file.slice(o, o + chunk), 'SHA-256', holder),
                  await io.digest(file.slice(o, o + chunk), 'SHA-1', holder)]);
        sizes.push(holder.buffer.byteLength);
      }
      // A larger blob grows the buffer; two reads at once (a cancelled read still running) each get
      // a buffer of their own and both digests are right.
      const whole = await io.digest(file, 'SHA-256', holder);
      const grown = holder.buffer.byteLength;
      const both = await Promise.all([io.digest(file.slice(0, 5), 'SHA-256', holder),
                                      io.digest(file.slice(5, 1000), 'SHA-256', holder)]);
      const empty = await io.digest(file.slice(0, 0), 'SHA-256', holder);
      return {out, sizes, whole, grown, both, empty};
    }""")
    chunks = [data[o:o + MiB] for o in range(0, len(data), MiB)]
    assert result["out"] == [[hashlib.sha256(c).hexdigest(), hashlib.sha1(c).hexdigest()] for c in chunks]
    assert result["sizes"] == [MiB] * len(chunks)  # the first chunk's buffer, kept for the smaller last chunk
    assert result["whole"] == hashlib.sha256(data).hexdigest()
    assert result["grown"] == len(data)
    assert result["both"] == [hashlib.sha256(data[:5]).hexdigest(), hashlib.sha256(data[5:1000]).hexdigest()]
    assert result["empty"] == hashlib.sha256(b"").hexdigest()


def test_send_answers_status_headers_and_body_and_reports_progress(io_page, store, source):
    path, data = source
    io_page.set_input_files("#file", str(path))
    result = io_page.evaluate("""async (url) => {
      const io = window.filepicker._io, file = document.getElementById('file').files[0];
      let sent = 0;
      const created = await io.send('POST', url + '/api/upload',
        ['Tus-Resumable', '1.0.0', 'Upload-Length', String(file.size),
         'Upload-Metadata', 'apikey ' + btoa('demo') + ',filename ' + btoa('s.bin')], undefined, () => {}).promise;
      const location = /^location: (.*)$/im.exec(created[1])[1].trim();
      const patched = await io.send('PATCH', location,
        ['Tus-Resumable', '1.0.0', 'Upload-Offset', '0', 'Content-Type', 'application/offset+octet-stream'],
        file, n => { sent = n; }).promise;
      let failed = null;
      try { await io.send('GET', 'http://127.0.0.1:9/nothing', [], undefined, () => {}).promise; }
      catch (e) { failed = String(e); }
      return {created: created[0], patched: patched[0], body: JSON.parse(patched[2]), sent, failed};
    }""", store.url)
    assert result["created"] == 201
    assert result["patched"] == 200
    assert result["body"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["sent"] == len(data)
    assert result["failed"] == "Error: no answer from http://127.0.0.1:9/nothing"


def test_reads_survive_garbage_collection(browser, store, source):
    """A Blob stream's pending read is held by nothing the page can reach: unless the loader holds
    its reads, V8 may collect one mid-read and its digest never settles (a pick that hangs). Here
    garbage is collected, on purpose, while 200 reads are under way."""
    path, data = source
    with run_host_pages(store.url) as pages:
        collecting = launch(browser.browser_type, "--js-flags=--expose-gc")  # a browser of its own, with gc() exposed
        try:
            page = collecting.new_page()
            page.goto(f"{pages.url}/loader.html")
            page.set_input_files("#file", str(path))
            digests = page.evaluate("""async () => {
              const file = document.getElementById('file').files[0];
              const reads = [];
              for (let i = 0; i < 200; i++) {
                reads.push(window.filepicker._io.digest(file.slice(i * 4096, i * 4096 + 10240), 'SHA-256', {}));
                gc();
              }
              const settled = Promise.all(reads);
              const deadline = performance.now() + 10000;
              let done = null;
              settled.then(values => { done = values; });
              while (done === null && performance.now() < deadline) {
                await new Promise(resolve => setTimeout(resolve, 20));
                gc();
              }
              return done;
            }""")
        finally:
            collecting.close()
    assert digests == [hashlib.sha256(data[i * 4096:i * 4096 + 10240]).hexdigest() for i in range(200)]
