/* Registers the citizen pages' service worker (offline pages). A file rather than an inline
   script, so the Content-Security-Policy needs no nonce on the cached page layout; the worker's
   URL comes from the tag's data-sw attribute. */
(function () {
  var script = document.currentScript;
  if (script && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(script.getAttribute("data-sw"), { scope: "/" });
  }
})();
