/* In harness/pages/loader.html, with a file chosen: read and hash 8 consecutive chunks of `size`
   bytes with the loader's filepicker._io.digest, one holder for all (so that they reuse one buffer,
   as in an upload); resolves with the median ms per chunk. */
async size => {
  const file = document.getElementById("file").files[0];
  const holder = {};
  const times = [];
  for (let i = 0; i < 8; i++) {
    const t = performance.now();
    await window.filepicker._io.digest(file.slice(i * size, (i + 1) * size), "SHA-256", holder);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return (times[3] + times[4]) / 2;
}
