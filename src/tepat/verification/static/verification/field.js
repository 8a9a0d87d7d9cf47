// Tepat field app: verifies signed vouchers offline and queues handovers in IndexedDB.
// Every handover gets a client-generated id, so resending a batch to the server is harmless.
// A card check runs offline; a one-time code or a face check needs the server (online steps),
// and the server accepts a handover by those methods only when the check passed there.
// Messages come translated from the page (json_script "field-messages"): no text lives here.
// The day's list carries card and proxy ID numbers only as PBKDF2 digests under a salt drawn for
// each download (meta "kdf"); the device derives the same from what the card shows. The list
// leaves the device at sign-out (wipe): only handovers not yet synced stay, until they are.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const API = "/api/verification";
  const T = JSON.parse(($("field-messages") || {}).textContent || "{}");
  const t = (key, vars) => (T[key] || key).replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? vars[k] : m));
  // Voucher id -> methods whose online check passed in this session.
  const verified = new Map();
  let dbp = null;

  function db() {
    if (!dbp) {
      dbp = new Promise((resolve, reject) => {
        const req = indexedDB.open("tepat-lapangan-" + document.body.dataset.user, 1);
        req.onupgradeneeded = () => {
          const d = req.result;
          d.createObjectStore("list", { keyPath: "id" });
          d.createObjectStore("queue", { keyPath: "client_id" });
          d.createObjectStore("meta");
        };
        req.onsuccess = () => {
          // Another tab signing out deletes the database: let it, instead of blocking it.
          req.result.onversionchange = () => { req.result.close(); dbp = null; };
          resolve(req.result);
        };
        req.onerror = () => reject(req.error);
      });
    }
    return dbp;
  }
  async function tx(store, mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const t = d.transaction(store, mode);
      const out = fn(t.objectStore(store));
      t.oncomplete = () => resolve(out && "result" in out ? out.result : undefined);
      t.onerror = () => reject(t.error);
    });
  }
  const get = (s, k) => tx(s, "readonly", (o) => o.get(k));
  const put = (s, v, k) => tx(s, "readwrite", (o) => (k === undefined ? o.put(v) : o.put(v, k)));
  const all = (s) => tx(s, "readonly", (o) => o.getAll());
  const del = (s, k) => tx(s, "readwrite", (o) => o.delete(k));

  function b64d(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  }
  // The digest the day's list holds for a card or an ID number: PBKDF2-SHA256 over
  // "<voucher id>:<digits>" with the list's salt and rounds (null without a current list).
  async function numberCheck(voucherId, digits) {
    const kdf = await get("meta", "kdf");
    if (!kdf || kdf.alg !== "PBKDF2-SHA256") return null;
    const enc = new TextEncoder();
    const key = await crypto.subtle.importKey("raw", enc.encode(voucherId + ":" + digits), "PBKDF2", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: b64d(kdf.salt), iterations: kdf.iterations }, key, kdf.length * 8);
    return Array.from(new Uint8Array(bits), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function csrf() {
    const el = document.querySelector("input[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }
  async function deviceId() {
    let id = await get("meta", "device_id");
    if (!id) {
      id = crypto.randomUUID();
      await put("meta", id, "device_id");
    }
    return id;
  }
  async function refreshCounts() {
    $("count").textContent = (await all("list")).length;
    $("queued").textContent = (await all("queue")).length;
    $("net").textContent = navigator.onLine ? t("online") : t("offline");
    $("otp-offline").hidden = navigator.onLine;
  }
  function show(el, cls, text) {
    el.className = cls;
    el.textContent = text;
  }
  async function post(path, body) {
    const isForm = body instanceof FormData;
    return fetch(API + path, {
      method: "POST", credentials: "same-origin",
      headers: isForm ? { "X-CSRFToken": csrf() } : { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: isForm ? body : JSON.stringify(body),
    });
  }
  async function errorOf(r) {
    try {
      return await r.json();
    } catch (e) {
      return { code: "http_" + r.status, message: "HTTP " + r.status };
    }
  }
  const methodsOf = (item) => (item && item.methods && item.methods.length ? item.methods : ["card"]);
  const methodNames = (ms) => ms.map((m) => t("method_" + m)).join(", ");
  // Rupiah as people read it, as the server's `rupiah` filter writes it: Rp5.831.325.
  const rupiah = (n) => "Rp" + new Intl.NumberFormat("id-ID", { maximumFractionDigits: 0 }).format(n);
  const chosenMethod = () => (document.querySelector("input[name=method]:checked") || {}).value || "card";

  async function download() {
    const r = await fetch(API + "/day", { credentials: "same-origin" });
    if (r.status === 401 || r.status === 403) {
      // Signed out, or no longer assigned to this place: the old list must not stay either.
      await forgetList();
      await refreshCounts();
    }
    if (!r.ok) throw new Error("HTTP " + r.status);
    const data = await r.json();
    await tx("list", "readwrite", (o) => { o.clear(); data.items.forEach((i) => o.put(i)); });
    await put("meta", data.revoked, "revoked");
    await put("meta", data.key, "key");
    await put("meta", data.kdf, "kdf");
    $("result").textContent = t("downloaded", { n: data.items.length });
    await refreshCounts();
  }

  // The same check the server runs: signature, revocation, validity window. `reason` is a
  // message key (and the code reported to the server at sync).
  async function verifyToken(token) {
    const key = await get("meta", "key");
    if (!key) return { ok: false, reason: "no_key" };
    const parts = token.trim().split(".");
    if (parts.length !== 2) return { ok: false, reason: "unreadable" };
    let good = false;
    let body = null;
    try {
      const pub = await crypto.subtle.importKey("raw", b64d(key.public_key), { name: "Ed25519" }, false, ["verify"]);
      body = b64d(parts[0]);
      good = await crypto.subtle.verify({ name: "Ed25519" }, pub, b64d(parts[1]), body);
    } catch (e) {
      return { ok: false, reason: "unreadable" };
    }
    if (!good) return { ok: false, reason: "bad_signature" };
    const p = JSON.parse(new TextDecoder().decode(body));
    const revoked = (await get("meta", "revoked")) || [];
    if (revoked.includes(p.id)) return { ok: false, reason: "revoked", p };
    const now = Date.now() / 1000;
    if (now > p.u) return { ok: false, reason: "expired", p };
    return { ok: true, p };
  }

  // The voucher on screen and its entry in the day's list, or the reason it cannot be used.
  async function currentVoucher() {
    const token = $("token").value;
    const v = await verifyToken(token);
    if (!v.ok) return { reason: v.reason, p: v.p };
    const item = await get("list", v.p.id);
    if (!item) return { reason: "not_in_list", p: v.p };
    if (item.redeemed) return { reason: "already_redeemed", p: v.p };
    return { p: v.p, item, token: token.trim() };
  }

  // Offer only the methods the voucher's programme accepts on its channel. Without a KKS card on
  // file the card method cannot pass (only a registered proxy's ID number can): say so before
  // the agent types anything, and preselect the policy's other method where there is one.
  async function showMethods() {
    const token = $("token").value.trim();
    const radios = document.querySelectorAll("input[name=method]");
    const note = $("card-note");
    note.hidden = true;
    note.textContent = "";
    if (!token) {
      radios.forEach((r) => { r.disabled = false; });
      $("allowed").textContent = "";
      return;
    }
    const cur = await currentVoucher();
    if (!cur.item) return;
    const allowed = methodsOf(cur.item);
    const noCard = !cur.item.card_check;
    const proxies = (cur.item.proxies || []).length > 0;
    const usable = allowed.filter((m) => m !== "card" || !noCard || proxies);
    radios.forEach((r) => { r.disabled = !usable.includes(r.value); });
    const prefer = noCard && usable.find((m) => m !== "card");
    if (prefer || !usable.includes(chosenMethod())) {
      const first = document.querySelector("input[name=method][value=" + (prefer || usable[0] || allowed[0]) + "]");
      if (first) first.checked = true;
    }
    $("allowed").textContent = t("allowed_methods", { methods: methodNames(allowed) });
    if (noCard) {
      const others = allowed.filter((m) => m !== "card");
      const text = others.length ? t("no_card_on_file", { methods: methodNames(others) }) : t("no_card_no_alternative");
      note.textContent = proxies ? text + " " + t("card_proxy_only") : text;
      note.hidden = false;
    }
    showSteps();
  }
  function showSteps() {
    const m = chosenMethod();
    $("card-step").hidden = m !== "card";
    $("otp-step").hidden = m !== "otp";
    $("face-step").hidden = m !== "face";
  }

  // --- online steps: one-time code and face -------------------------------------------------
  async function onlineVoucher(status, method) {
    if (!navigator.onLine) {
      show(status, "bad", t("online_only"));
      return null;
    }
    const cur = await currentVoucher();
    if (!cur.item) {
      show(status, "bad", t("rejected", { reason: t(cur.reason) }));
      return null;
    }
    const allowed = methodsOf(cur.item);
    if (!allowed.includes(method)) {
      show(status, "bad", t("method_not_allowed", { methods: methodNames(allowed) }));
      return null;
    }
    return cur;
  }
  function serverError(status, err) {
    const known = {
      no_phone: "otp_no_phone", no_face: "face_no_face", not_an_image: "face_not_image",
      image_too_large: "face_too_large", face_unavailable: "face_unavailable",
      not_enrolled: "face_not_enrolled",
    };
    show(status, "bad", known[err.code] ? t(known[err.code]) : t("failed", { error: err.message || err.code }));
  }
  async function otpSend() {
    const status = $("otp-status");
    const cur = await onlineVoucher(status, "otp");
    if (!cur) return;
    const r = await post("/otp/send", { voucher_id: cur.p.id });
    if (!r.ok) return serverError(status, await errorOf(r));
    show(status, "ok", t("otp_sent"));
    $("otp-code").focus();
  }
  async function otpCheck() {
    const status = $("otp-status");
    const code = $("otp-code").value.replace(/\D/g, "");
    if (code.length !== 6) return show(status, "bad", t("otp_enter"));
    const cur = await onlineVoucher(status, "otp");
    if (!cur) return;
    const r = await post("/otp/check", { voucher_id: cur.p.id, code });
    if (!r.ok) return serverError(status, await errorOf(r));
    const res = await r.json();
    if (!res.ok) return show(status, "bad", t("otp_wrong"));
    if (!verified.has(cur.p.id)) verified.set(cur.p.id, new Set());
    verified.get(cur.p.id).add("otp");
    $("otp-code").value = "";
    show(status, "ok", t("otp_ok"));
  }
  async function faceCheck() {
    const status = $("face-status");
    const file = $("face-photo").files[0];
    if (!file) return show(status, "bad", t("face_no_photo"));
    const cur = await onlineVoucher(status, "face");
    if (!cur) return;
    const form = new FormData();
    form.append("voucher_id", cur.p.id);
    form.append("image", file);
    const r = await post("/face/verify", form);
    if (!r.ok) return serverError(status, await errorOf(r));
    const res = await r.json();
    if (!res.ok) return show(status, "bad", t("face_mismatch"));
    if (!verified.has(cur.p.id)) verified.set(cur.p.id, new Set());
    verified.get(cur.p.id).add("face");
    show(status, "ok", t("face_ok"));
  }

  async function verifyAndHandOver() {
    const out = $("result");
    out.className = "";
    const method = chosenMethod();
    // Failed checks go to the server at the next sync, by code, for the audit trail.
    const fail = async (reason, p, vars) => {
      show(out, "bad", t("rejected", { reason: t(reason, vars) }));
      const f = (await get("meta", "failures")) || [];
      f.push({ voucher_id: p ? p.id : "", method, reason });
      await put("meta", f, "failures");
    };
    const cur = await currentVoucher();
    if (!cur.item) return fail(cur.reason, cur.p);
    const { p, item, token } = cur;
    const allowed = methodsOf(item);
    if (!allowed.includes(method)) return fail("method_not_allowed", p, { methods: methodNames(allowed) });
    const byProxy = method === "card" && $("proxy").checked;
    if (method === "card") {
      const check = await numberCheck(p.id, $("card").value.replace(/\D/g, ""));
      if (check === null) return fail("list_outdated", p);
      if (byProxy) {
        // A proxy shows their own registered ID number instead of the KKS card.
        if (!(item.proxies || []).some((x) => x.check === check)) return fail("proxy_unknown", p);
      } else if (!item.card_check) {
        // No KKS card on file: nothing to check the card against, so the server refuses a card
        // handover; name the methods the programme offers instead.
        const others = allowed.filter((m) => m !== "card");
        return others.length
          ? fail("no_card_on_file", p, { methods: methodNames(others) })
          : fail("no_card_no_alternative", p);
      } else if (check !== item.card_check) {
        return fail("card_mismatch", p);
      }
    } else if (!(verified.get(p.id) || new Set()).has(method)) {
      return fail(method === "otp" ? "otp_needed" : "face_needed", p);
    }
    const handover = {
      client_id: crypto.randomUUID(), token, method,
      device_time: new Date().toISOString(), by_proxy: byProxy,
    };
    await put("queue", handover);
    item.redeemed = true;
    await put("list", item);
    verified.delete(p.id);
    show(out, "ok", t("handed_over", { name: item.name, amount: rupiah(item.amount) }));
    $("token").value = "";
    $("card").value = "";
    $("proxy").checked = false;
    $("otp-status").textContent = "";
    $("face-status").textContent = "";
    $("face-photo").value = "";
    await refreshCounts();
  }

  // --- scanning the voucher's QR: the browser's BarcodeDetector where it reads QR codes, else
  // the vendored barcode-detector ponyfill (ZXing compiled to WebAssembly, loaded on first use
  // and cached by the service worker for offline use). The paste box stays as the last resort.
  let detectorP = null;
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error(src));
      document.head.appendChild(s);
    });
  }
  async function makeDetector() {
    if ("BarcodeDetector" in window) {
      try {
        if ((await window.BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
          return new window.BarcodeDetector({ formats: ["qr_code"] });
        }
      } catch (e) { /* fall back to the decoder */ }
    }
    if (!window.BarcodeDetectionAPI) await loadScript(document.body.dataset.decoder);
    const api = window.BarcodeDetectionAPI;
    const wasm = document.body.dataset.decoderWasm;
    // The .wasm is served from this site (never the package's default CDN).
    api.setZXingModuleOverrides({ locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasm : prefix + path) });
    return new api.BarcodeDetector({ formats: ["qr_code"] });
  }
  function detector() {
    if (!detectorP) detectorP = makeDetector().catch((e) => { detectorP = null; throw e; });
    return detectorP;
  }
  // A QR read: put it where a pasted token goes, and say at once whether the voucher is usable.
  async function scanned(value) {
    $("token").value = value.trim();
    await showMethods();
    const cur = await currentVoucher();
    if (cur.item) {
      show($("scan-status"), "ok", t("scan_ok", { name: cur.item.name, amount: rupiah(cur.item.amount) }));
      const m = chosenMethod();
      const next = m === "card" ? $("card") : m === "otp" ? $("otp-send") : $("face-photo");
      next.focus();
    } else {
      show($("scan-status"), "bad", t("rejected", { reason: t(cur.reason) }));
    }
  }
  let stream = null;
  let scanning = false;
  function scanStop() {
    scanning = false;
    if (stream) stream.getTracks().forEach((tr) => tr.stop());
    stream = null;
    const video = $("scan-video");
    video.srcObject = null;
    video.hidden = true;
    $("scan-stop").hidden = true;
    $("scan-start").hidden = false;
  }
  async function scanStart() {
    const status = $("scan-status");
    if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
      return show(status, "bad", t("camera_unavailable"));
    }
    show(status, "note", t("scan_loading"));
    let det;
    try {
      det = await detector();
    } catch (e) {
      return show(status, "bad", t("decoder_unavailable"));
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      return show(status, "bad", t(e && e.name === "NotAllowedError" ? "camera_denied" : "camera_unavailable"));
    }
    const video = $("scan-video");
    video.srcObject = stream;
    video.hidden = false;
    $("scan-start").hidden = true;
    $("scan-stop").hidden = false;
    $("scan-stop").focus();
    try {
      await video.play();
    } catch (e) {
      scanStop();
      return show(status, "bad", t("camera_unavailable"));
    }
    show(status, "note", t("scan_point"));
    scanning = true;
    while (scanning) {
      if (video.readyState >= 2) {
        let codes = [];
        try { codes = await det.detect(video); } catch (e) { /* a frame it could not read */ }
        if (scanning && codes.length) {
          scanStop();
          await scanned(codes[0].rawValue);
          $("scan-start").focus();
          return;
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  async function scanPhoto() {
    const status = $("scan-status");
    const file = $("scan-photo").files[0];
    if (!file) return;
    show(status, "note", t("scan_loading"));
    let det;
    try {
      det = await detector();
    } catch (e) {
      return show(status, "bad", t("decoder_unavailable"));
    }
    let codes = [];
    try {
      codes = await det.detect(await createImageBitmap(file));
    } catch (e) { /* not an image it can read */ }
    $("scan-photo").value = "";
    if (!codes.length) return show(status, "bad", t("no_qr_in_photo"));
    await scanned(codes[0].rawValue);
  }

  // One sync at a time: the "online" event and a tap on the button can both start one, and two
  // overlapping posts of the same queue would report the second as "already applied".
  let inflight = null;
  function sync() {
    if (!inflight) inflight = syncOnce().finally(() => { inflight = null; });
    return inflight;
  }

  async function syncOnce() {
    const queue = await all("queue");
    const failures = (await get("meta", "failures")) || [];
    const r = await fetch(API + "/sync", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ device_id: await deviceId(), handovers: queue, failures }),
    });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const res = await r.json();
    await put("meta", [], "failures");
    const done = [...res.accepted, ...res.already, ...res.duplicates, ...Object.keys(res.rejected)];
    for (const id of done) await del("queue", id);
    // Handovers the server had already applied (an earlier, interrupted sync) count as received.
    const received = res.accepted.length + res.already.length;
    $("syncresult").textContent = t("synced", {
      received, duplicates: res.duplicates.length, rejected: Object.keys(res.rejected).length,
    });
    $("syncresult").className = res.duplicates.length ? "bad" : "ok";
    await refreshCounts();
  }

  // --- sign-out: the list leaves the device -------------------------------------------------
  async function forgetList() {
    await tx("list", "readwrite", (o) => o.clear());
    for (const k of ["revoked", "key", "kdf"]) await del("meta", k);
  }
  async function wipe() {
    if (navigator.onLine) {
      try { await sync(); } catch (e) { /* what did not reach the server stays queued */ }
    }
    const waiting = (await all("queue")).length + ((await get("meta", "failures")) || []).length;
    if (waiting) {
      await forgetList();  // keep only the queue (signed tokens, no names) and failure codes
    } else {
      const d = await db();
      d.close();
      dbp = null;
      await new Promise((resolve) => {
        const req = indexedDB.deleteDatabase(d.name);
        req.onsuccess = req.onerror = req.onblocked = () => resolve();
      });
    }
    if (window.caches) {
      for (const name of await caches.keys()) {
        if (name.startsWith("tepat-lapangan")) await caches.delete(name);
      }
    }
    try { localStorage.clear(); sessionStorage.clear(); } catch (e) { /* none */ }
  }
  async function signOut(e) {
    e.preventDefault();
    const form = e.target;
    try { await wipe(); } finally { form.submit(); }
  }

  const guard = (fn, where) => () => fn().catch((e) => {
    const el = $(where || "result");
    // A fetch that cannot reach the server rejects with a TypeError: say it needs a connection.
    show(el, "bad", e instanceof TypeError && !navigator.onLine ? t("online_only") : t("failed", { error: e.message }));
  });
  $("download").addEventListener("click", guard(download));
  $("signout").addEventListener("submit", signOut);
  $("verify").addEventListener("click", guard(verifyAndHandOver));
  $("sync").addEventListener("click", guard(sync));
  $("otp-send").addEventListener("click", guard(otpSend, "otp-status"));
  $("otp-check").addEventListener("click", guard(otpCheck, "otp-status"));
  $("face-check").addEventListener("click", guard(faceCheck, "face-status"));
  $("token").addEventListener("input", () => { $("scan-status").textContent = ""; showMethods().catch(() => {}); });
  $("scan-start").addEventListener("click", guard(scanStart, "scan-status"));
  $("scan-stop").addEventListener("click", () => { scanStop(); $("scan-status").textContent = ""; $("scan-start").focus(); });
  $("scan-photo").addEventListener("change", guard(scanPhoto, "scan-status"));
  // The camera never stays on behind the agent's back (another app, a locked screen).
  document.addEventListener("visibilitychange", () => { if (document.hidden && stream) scanStop(); });
  document.querySelectorAll("input[name=method]").forEach((r) => r.addEventListener("change", showSteps));
  window.addEventListener("online", () => { refreshCounts(); sync().catch(() => {}); });
  window.addEventListener("offline", refreshCounts);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/lapangan/sw.js", { scope: "/lapangan/" }).catch(() => {});
    // After a sign-out emptied the caches, the worker caches the app shell again.
    navigator.serviceWorker.ready.then((r) => { if (r.active) r.active.postMessage("precache"); }).catch(() => {});
  }
  refreshCounts();
  showSteps();
  window.tepatField = { sync, download, wipe, detector };
})();
