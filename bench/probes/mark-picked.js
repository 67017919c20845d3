/* In the picker page once the dialog is open: note when the dialog's file input fires `change` (a
   capturing listener on its open shadow root, added by the bench; the picker's own listener is
   untouched and runs after it). A MutationObserver on the dialog's file list notes when its rows
   are added (the picker adds them once it has looked at every picked file, before it uploads any). */
() => {
  const root = document.querySelector("[data-pickstore]").shadowRoot;
  root.addEventListener("change", () => { window.bench.picked = performance.now(); }, {capture: true, once: true});
  window.bench.rows = null;
  new MutationObserver((records) => {
    const now = performance.now();
    const added = records.reduce((n, r) => n + r.addedNodes.length, 0);
    if (!added) return;
    const rows = window.bench.rows || (window.bench.rows = {first: now, last: now, count: 0});
    rows.last = now;
    rows.count += added;
  }).observe(root.querySelector(".files"), {childList: true});
}
