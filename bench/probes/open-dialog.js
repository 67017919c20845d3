/* On a ready picker page: call pickAndStore and resolve with the ms until `.choose` is visible. A
   MutationObserver catches the dialog in the same task that adds it; requestAnimationFrame polling
   is the fallback for changes inside the shadow root, which the observer on body does not see. */
() => new Promise((resolve) => {
  const t0 = performance.now();
  let done = false;
  function check() {
    if (done) return;
    const host = document.querySelector("div[data-pickstore]");
    const button = host && host.shadowRoot && host.shadowRoot.querySelector(".choose");
    if (button && button.checkVisibility() && button.getBoundingClientRect().width > 0) {
      done = true;
      observer.disconnect();
      resolve(performance.now() - t0);
    } else {
      requestAnimationFrame(check);
    }
  }
  const observer = new MutationObserver(check);
  observer.observe(document.body, { childList: true, subtree: true });
  filepicker.pickAndStore({ multiple: true }, {}, () => {}, () => {}, () => {});
  check();
})
