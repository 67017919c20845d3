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
    else queue.push(request);
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
