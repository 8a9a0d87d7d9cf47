{% autoescape off %}// Tepat field app's service worker (scope /lapangan/). Written by verification/views.py.
// The app shell is cached when the worker installs, so the very first visit already reopens
// offline; pages and files are fetched from the network first and from the cache when offline.
// The QR decoder (a .wasm of ~1 MB) is cached only where the browser lacks a native
// BarcodeDetector for QR codes. Sign-out deletes these caches (field.js, wipe); the page then
// asks the worker to cache the shell again on the next signed-in visit ("precache" message).
"use strict";
const CACHE = {{ cache_name }};
const SHELL = {{ shell }};
const ASSETS = {{ assets }};
const DECODER = {{ decoder }};

async function nativeQr() {
  try {
    return "BarcodeDetector" in self &&
      (await self.BarcodeDetector.getSupportedFormats()).includes("qr_code");
  } catch (e) {
    return false;
  }
}
// At install: everything, fresh. Asked by the page: only what is missing (after a sign-out).
// The shell must be cached for the worker to install; the decoder is best effort (a phone that
// cannot cache it can still paste a token, and scans once online).
async function missing(cache, urls, onlyMissing) {
  const out = [];
  for (const url of urls) {
    if (!onlyMissing || !(await cache.match(url, { ignoreVary: true }))) out.push(url);
  }
  return out;
}
async function precache(onlyMissing) {
  const cache = await caches.open(CACHE);
  await cache.addAll(await missing(cache, ASSETS, onlyMissing));
  if (!(await nativeQr())) {
    await cache.addAll(await missing(cache, DECODER, onlyMissing)).catch(() => {});
  }
}
self.addEventListener("install", (e) => {
  e.waitUntil(precache(false).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (e) => {
  e.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("tepat-lapangan") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});
self.addEventListener("message", (e) => {
  if (e.data === "precache") e.waitUntil(precache(true).catch(() => {}));
});
// The app's responses vary on the cookie and the language: offline, the shell cached at install
// (with the request headers the worker sent then) must still match a browser navigation.
const cached = (request) => caches.match(request, { ignoreVary: true });
self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== self.location.origin ||
      url.pathname.startsWith("/api/")) return;
  const navigation = e.request.mode === "navigate";
  e.respondWith(fetch(e.request).then((r) => {
    // Only a good answer replaces what is cached: never a redirect to the sign-in page.
    if (r.ok && r.type === "basic") {
      const copy = r.clone();
      caches.open(CACHE).then((c) => c.put(e.request, copy));
    }
    return r;
  }).catch(async () => (await cached(e.request)) ||
    (navigation && url.pathname === SHELL ? await cached(SHELL) : undefined) ||
    Response.error()));
});
{% endautoescape %}
