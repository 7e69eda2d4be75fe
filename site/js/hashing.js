/* Sightline: hashing.js — a file's SHA-256, worked out in the browser while it uploads.
 *
 * The owner sees each file's fingerprint and the server compares it with its own, so a file
 * changed on the way is caught. hash-wasm (vendor/hash-wasm, WebAssembly; the site's CSP allows
 * 'wasm-unsafe-eval' for it) takes the file in 4 MiB slices read one after another, so a
 * multi-gigabyte export needs no more memory than a small one. SubtleCrypto.digest() would need
 * the whole file in memory at once: it has no streaming form. See docs/decisions.md.
 *
 *   Sightline.hashing.sha256(file, {onProgress(bytes), cancelled()}) -> Promise<hex>
 *   Sightline.hashing.available() -> whether the library loaded
 * A cancelled read rejects with {cancelled: true}.
 */
(function () {
  "use strict";

  var Sightline = (window.Sightline = window.Sightline || {});
  var SLICE_BYTES = 4 * 1024 * 1024;

  function available() {
    return !!(window.hashwasm && typeof window.hashwasm.createSHA256 === "function");
  }

  /** Blob.arrayBuffer() where there is one; FileReader in browsers from before it. */
  function readSlice(blob) {
    if (typeof blob.arrayBuffer === "function") return blob.arrayBuffer();
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () {
        resolve(reader.result);
      };
      reader.onerror = function () {
        reject(reader.error);
      };
      reader.readAsArrayBuffer(blob);
    });
  }

  function sha256(file, options) {
    options = options || {};
    var cancelled = options.cancelled || function () {
      return false;
    };
    if (!available()) return Promise.reject(new Error("The fingerprint library did not load."));
    return window.hashwasm.createSHA256().then(function (hasher) {
      hasher.init();
      var offset = 0;
      function next() {
        if (cancelled()) throw { cancelled: true };
        if (offset >= file.size) return hasher.digest("hex");
        var end = Math.min(offset + SLICE_BYTES, file.size);
        return readSlice(file.slice(offset, end)).then(function (buffer) {
          hasher.update(new Uint8Array(buffer));
          offset = end;
          if (options.onProgress) options.onProgress(offset);
          return next();
        });
      }
      return next();
    });
  }

  Sightline.hashing = { sha256: sha256, available: available, SLICE_BYTES: SLICE_BYTES };
})();
