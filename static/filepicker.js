/* pickstore loader: defines window.filepicker at once, boots the Python picker from the store that
   served this file, and forwards calls to it (queued until it is ready). */
(function () {
  "use strict";
  if (window.filepicker && window.filepicker.__pickstore) return;

  var script = document.currentScript;
  var base = new URL("../", script ? script.src : location.href).href;

  function FPError(code, message) {
    this.code = code;
    this.message = message;
  }
  FPError.prototype.toString = function () {
    return "FPError " + this.code;
  };

  // The dialog's stylesheet and the frame's words in every language, filled in by the store that
  // serves this file (store/assets.py): {css: "...", strings: {en: {lang, dir, title_one,
  // title_many, close, loading}, ...}, scriptRegions: {zh_hant: "zh_tw", ...}}. Left null, a pick asked before the picker is ready shows nothing until it is.
  var frameText = null;
  var CLOSED = "The user closed the dialog without picking a file";

  var apiKey = null;
  var uploadOptions = {};
  var runtime = null;
  var booting = false;
  var queue = [];
  var suspending = null;

  // Pyodide runs calls into Python on secondary wasm stacks when the browser has JSPI
  // (WebAssembly.Suspending), which the picker never needs; on Chromium 156 the renderer then now
  // and then dies with SIGSEGV: a loop in V8 reading such a stack word by word runs past its end.
  // Pyodide decides once, while its module loads, so the name is hidden until the picker is ready.
  function hideSuspending() {
    if (typeof WebAssembly !== "object" || !("Suspending" in WebAssembly)) return;
    suspending = Object.getOwnPropertyDescriptor(WebAssembly, "Suspending");
    if (suspending && suspending.configurable) delete WebAssembly.Suspending;
    else suspending = null;
  }
  function restoreSuspending() {
    if (suspending) Object.defineProperty(WebAssembly, "Suspending", suspending);
    suspending = null;
  }

  function boot() {
    if (booting) return;
    booting = true;
    hideSuspending();
    addEventListener("py:all-done", restoreSuspending, { once: true }); // PyScript has run its scripts
    var py = document.createElement("script");
    py.type = "py";
    py.setAttribute("config", base + "pyscript.toml");
    py.textContent = "import picker.main";
    py.hidden = true;
    document.head.appendChild(py);
    var core = document.createElement("script");
    core.type = "module";
    core.src = base + "vendor/pyscript/core.js";
    document.head.appendChild(core);
  }

  // Pages pass null for "not set" ({mimetype: config.type || null}, pickAndStore(null, null, ...)),
  // and the old library took it so: null becomes undefined, which the picker reads as left out.
  function withoutNulls(value) {
    if (value === null) return undefined;
    if (Array.isArray(value)) return value.map(withoutNulls);
    if (Object.prototype.toString.call(value) !== "[object Object]") return value;
    var copy = {};
    Object.keys(value).forEach(function (key) { copy[key] = withoutNulls(value[key]); });
    return copy;
  }

  // The dialog's frame, drawn at once when a pick is asked before the Python side is ready: the
  // same Shadow DOM host, overlay and header as the dialog's, a loading state, and the close
  // button and Esc working. The Python dialog takes it over (filepicker._takeFrame) when ready.
  var frame = null;

  // The same choice as the picker's (picker/i18n.py choose_language): the tag whole, then its
  // language and region without a script, then the bare language; a script may name a region.
  function frameLanguage(requested) {
    var available = frameText.strings;
    var candidates = (requested ? [requested] : []).concat(Array.prototype.slice.call(navigator.languages || []));
    for (var i = 0; i < candidates.length; i++) {
      var parts = String(candidates[i]).replace(/-/g, "_").toLowerCase().split("_");
      var options = [parts.join("_")];
      if (parts.length > 2) options.push(parts[0] + "_" + parts[parts.length - 1]);
      if (parts.length > 1) options.push(parts[0] + "_" + parts[1]);
      options.push(parts[0]);
      for (var j = 0; j < options.length; j++) {
        var option = frameText.scriptRegions[options[j]] || options[j];
        if (available[option]) return option;
      }
    }
    return "en";
  }

  function element(name, attributes, text) {
    var node = document.createElement(name);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text) node.textContent = text;
    return node;
  }

  function removeFrame() {
    var drawn = frame;
    frame = null;
    drawn.host.remove();
    var target = drawn.returnsFocusTo;
    if (target && target.isConnected && target.focus) target.focus();
  }

  function drawFrame(method, args, request) {
    var options = args[0] && typeof args[0] === "object" ? args[0] : {};
    var container = options.container;
    var phone = window.matchMedia && matchMedia("(pointer: coarse)").matches && screen.width < 768;
    if (!frameText || (container !== undefined && container !== "modal") || phone) return;
    if (frame) removeFrame(); // a newer pick replaces it, as it replaces an open dialog
    var words = frameText.strings[frameLanguage(options.language)];
    var many = method === "pickMultiple" || (method === "pickAndStore" && !!options.multiple);
    var host = element("div", { "data-pickstore": "dialog" });
    var root = host.attachShadow({ mode: "open" });
    var close = element("button", { "class": "close", type: "button", "aria-label": words.close }, "\u00d7");
    var dialog = element("div", { "class": "dialog", role: "dialog", "aria-modal": "true",
                                  "aria-labelledby": "fp-title", "aria-busy": "true", lang: words.lang,
                                  dir: words.dir });
    var header = element("header");
    header.append(element("h2", { id: "fp-title" }, many ? words.title_many : words.title_one), close);
    var body = element("div", { "class": "body" });
    body.append(element("p", { "class": "loading", role: "status" }, words.loading));
    dialog.append(header, body);
    var overlay = element("div", { "class": "overlay" });
    overlay.append(dialog);
    root.append(element("style", null, frameText.css), overlay);
    var drawn = { host: host, returnsFocusTo: document.activeElement, request: request };
    function closed() {
      if (frame !== drawn) return;
      removeFrame();
      var index = queue.indexOf(request);
      if (index >= 0) queue.splice(index, 1);
      request.cancelled = true; // in case the Python side has it already: it opens no dialog then
      var onError = args.filter(function (a) { return typeof a === "function"; })[1];
      if (onError) onError(new FPError(101, CLOSED));
    }
    close.addEventListener("click", closed);
    overlay.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closed();
      } else if (event.key === "Tab") { // the close button is all there is to focus yet
        event.preventDefault();
        close.focus();
      }
    });
    overlay.addEventListener("dragover", function (event) { event.preventDefault(); });
    overlay.addEventListener("drop", function (event) { event.preventDefault(); });
    frame = drawn;
    document.body.append(host);
    close.focus();
  }

  function call(method, args) {
    args = Array.prototype.slice.call(args).map(withoutNulls);
    if (!apiKey) {
      var message = "No API key: call filepicker.setKey('YOUR_API_KEY') before filepicker." + method + "()";
      var onError = args.filter(function (a) { return typeof a === "function"; })[1];
      console.error("filepicker: " + message);
      if (!onError) throw new FPError(400, message);
      setTimeout(function () { onError(new FPError(400, message)); }, 0);
      return;
    }
    boot();
    var request = { method: method, key: apiKey, args: args, upload: uploadOptions };
    if (runtime) runtime(request);
    else {
      queue.push(request);
      drawFrame(method, args, request);
    }
  }

  // The reads under way, held here: a stream whose only references are its own pending read and
  // its reader's callbacks can be garbage collected mid-read, and its read then never settles.
  var reading = new Set();

  // Reads a Blob into `holder.buffer` (an ArrayBuffer reused from chunk to chunk, made or grown
  // when too small) with a BYOB reader; resolves to a Uint8Array view of the bytes read.
  // Blob.arrayBuffer() gives a new buffer per chunk, which is freed only at V8's next garbage
  // collection: hashing a multi-GB file that way can grow the page by GBs (docs/benchmarks.md).
  function readInto(blob, holder) {
    var buffer = holder.buffer;
    holder.buffer = null; // in use: a read started meanwhile (a cancelled one still running) makes its own
    if (!buffer || buffer.byteLength < blob.size) buffer = new ArrayBuffer(blob.size);
    var reader;
    try {
      reader = blob.stream().getReader({ mode: "byob" });
    } catch (e) { // no byte streams in this browser
      return blob.arrayBuffer().then(function (bytes) { return new Uint8Array(bytes); });
    }
    var filled = 0;
    var held = { blob: blob, reader: reader };
    reading.add(held);
    function next() {
      if (filled === blob.size) return finish();
      return reader.read(new Uint8Array(buffer, filled, blob.size - filled)).then(function (got) {
        if (got.done) return finish();
        buffer = got.value.buffer;
        filled += got.value.byteLength;
        return next();
      });
    }
    function finish() {
      reader.releaseLock();
      if (filled !== blob.size) throw new Error("read " + filled + " of " + blob.size + " bytes");
      holder.buffer = buffer;
      return new Uint8Array(buffer, 0, filled);
    }
    return Promise.resolve().then(next).finally(function () { reading.delete(held); });
  }

  // What the Python picker asks of the browser in one call each, instead of an attribute access or
  // call across the JS/Python boundary per step (each costs tens of microseconds).
  var io = {
    // The hex digest ("SHA-256", "SHA-1") of a Blob's bytes. digest() copies its input when called,
    // so the holder's buffer is free for the next chunk at once.
    digest: function (blob, algorithm, holder) {
      return readInto(blob, holder).then(function (bytes) {
        return crypto.subtle.digest(algorithm, bytes);
      }).then(function (hashed) {
        return Array.prototype.map.call(new Uint8Array(hashed), function (b) {
          return (b < 16 ? "0" : "") + b.toString(16);
        }).join("");
      });
    },
    // Whether a Blob's bytes can still be read: the browser refuses to read a picked file that has
    // changed on disk since, and a request carrying it then fails as if the store had not answered.
    readable: function (blob) {
      return blob.slice(0, 1).arrayBuffer().then(function () { return true; }, function () { return false; });
    },
    // One request. `headers` is a list [name, value, name, value, ...]; `onSent(bytes)` hears the
    // upload's progress. A request during which nothing moves for `stallMs` ms (no body bytes
    // sent, no answer yet: a connection gone dead without closing, as after a network switch or
    // a laptop's sleep) is aborted; 0 waits for ever. Returns {promise, abort}: the promise
    // resolves to [status, raw response headers, body text], or rejects with a message when no
    // answer came.
    send: function (method, url, headers, body, onSent, stallMs) {
      var xhr = new XMLHttpRequest();
      var timer = null;
      var stalled = false;
      function watch() {
        clearTimeout(timer);
        if (stallMs > 0) timer = setTimeout(function () { stalled = true; xhr.abort(); }, stallMs);
      }
      var promise = new Promise(function (resolve, reject) {
        xhr.upload.onprogress = function (event) { watch(); onSent(event.loaded); };
        xhr.onreadystatechange = xhr.onprogress = watch;
        xhr.onload = function () {
          clearTimeout(timer);
          resolve([xhr.status, xhr.getAllResponseHeaders(), xhr.responseText]);
        };
        xhr.onerror = xhr.ontimeout = xhr.onabort = function () {
          clearTimeout(timer);
          reject(new Error(stalled ? "nothing moved for " + stallMs / 1000 + " s on the way to " + url
                                   : "no answer from " + url));
        };
      });
      xhr.open(method, url);
      for (var i = 0; i < headers.length; i += 2) xhr.setRequestHeader(headers[i], headers[i + 1]);
      xhr.send(body === undefined ? null : body);
      watch();
      return { promise: promise, abort: function () { xhr.abort(); } };
    },
  };

  window.filepicker = {
    __pickstore: true,
    _io: io,
    base: base,
    FPError: FPError,
    setKey: function (key) {
      apiKey = key;
      boot();
    },
    // Chunk size and retries of the uploads of later picks: {chunkSize: bytes, retries: n,
    // retryDelay: ms, maxRetryDelay: ms} (see docs/protocol.md, "The picker's uploads").
    setUploadOptions: function (options) {
      uploadOptions = options || {};
    },
    pickAndStore: function () { call("pickAndStore", arguments); },
    pick: function () { call("pick", arguments); },
    pickMultiple: function () { call("pickMultiple", arguments); },
    // The frame drawn before the Python side was ready, handed to the dialog that replaces its
    // content: {host, returnsFocusTo}, or null when there is none. Its own close button and Esc
    // stop working (the dialog's content replaces them).
    _takeFrame: function () {
      var drawn = frame;
      frame = null;
      if (!drawn) return null;
      return { host: drawn.host, returnsFocusTo: drawn.returnsFocusTo };
    },
    // Called when the Python side is done with a request: a frame no dialog took (the call was
    // refused before a dialog opened) goes away.
    _dropFrame: function (request) {
      if (frame && frame.request === request) removeFrame();
    },
    // Called by the Python side once it can take requests.
    _ready: function (handler) {
      restoreSuspending();
      runtime = handler;
      var pending = queue;
      queue = [];
      pending.forEach(function (request) { handler(request); });
      document.dispatchEvent(new CustomEvent("filepicker:ready"));
    },
  };
})();
