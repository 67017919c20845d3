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

  function boot() {
    if (booting) return;
    booting = true;
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

  window.filepicker = {
    __pickstore: true,
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
      runtime = handler;
      var pending = queue;
      queue = [];
      pending.forEach(function (request) { handler(request); });
      document.dispatchEvent(new CustomEvent("filepicker:ready"));
    },
  };
})();
