// Tepat field app: verifies signed vouchers offline and queues handovers in IndexedDB.
// Every handover gets a client-generated id, so resending a batch to the server is harmless.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const API = "/api/verification";
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
        req.onsuccess = () => resolve(req.result);
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
  async function sha256hex(text) {
    const h = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(h), (b) => b.toString(16).padStart(2, "0")).join("");
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
    $("net").textContent = navigator.onLine ? "daring" : "luring";
  }

  async function download() {
    const r = await fetch(API + "/day", { credentials: "same-origin" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const data = await r.json();
    await tx("list", "readwrite", (o) => { o.clear(); data.items.forEach((i) => o.put(i)); });
    await put("meta", data.revoked, "revoked");
    await put("meta", data.key, "key");
    $("result").textContent = "Daftar diunduh: " + data.items.length + " voucher";
    await refreshCounts();
  }

  // The same check the server runs: signature, revocation, validity window.
  async function verifyToken(token) {
    const key = await get("meta", "key");
    if (!key) return { ok: false, reason: "Kunci publik belum diunduh" };
    const parts = token.trim().split(".");
    if (parts.length !== 2) return { ok: false, reason: "QR tidak dikenali" };
    const pub = await crypto.subtle.importKey("raw", b64d(key.public_key), { name: "Ed25519" }, false, ["verify"]);
    const body = b64d(parts[0]);
    const good = await crypto.subtle.verify({ name: "Ed25519" }, pub, b64d(parts[1]), body);
    if (!good) return { ok: false, reason: "Tanda tangan voucher tidak sah" };
    const p = JSON.parse(new TextDecoder().decode(body));
    const revoked = (await get("meta", "revoked")) || [];
    if (revoked.includes(p.id)) return { ok: false, reason: "Voucher telah dicabut", p };
    const now = Date.now() / 1000;
    if (now > p.u) return { ok: false, reason: "Voucher kedaluwarsa", p };
    return { ok: true, p };
  }

  async function verifyAndHandOver() {
    const out = $("result");
    out.className = "";
    const token = $("token").value;
    const v = await verifyToken(token);
    const fail = async (reason, p) => {
      out.className = "bad";
      out.textContent = "Ditolak: " + reason;
      const f = (await get("meta", "failures")) || [];
      f.push({ voucher_id: p ? p.id : "", method: "card", reason: reason.slice(0, 60) });
      await put("meta", f, "failures");
    };
    if (!v.ok) return fail(v.reason, v.p);
    const item = await get("list", v.p.id);
    if (!item) return fail("Voucher tidak ada di daftar hari ini", v.p);
    if (item.redeemed) return fail("Voucher sudah diserahkan", v.p);
    const check = await sha256hex(v.p.id + ":" + $("card").value.replace(/\D/g, ""));
    if ($("proxy").checked) {
      // A proxy shows their own registered ID number instead of the KKS card.
      if (!(item.proxies || []).some((p) => p.check === check)) {
        return fail("Kuasa tidak terdaftar untuk penerima ini", v.p);
      }
    } else if (!item.card_check || check !== item.card_check) {
      return fail("Nomor kartu KKS tidak cocok", v.p);
    }
    const handover = {
      client_id: crypto.randomUUID(), token: token.trim(), method: "card",
      device_time: new Date().toISOString(), by_proxy: $("proxy").checked,
    };
    await put("queue", handover);
    item.redeemed = true;
    await put("list", item);
    out.className = "ok";
    out.textContent = "Diserahkan: " + item.name + " (Rp" + item.amount + ") — menunggu sinkronisasi";
    $("token").value = "";
    $("card").value = "";
    await refreshCounts();
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
    const msg = "Sinkron: " + received + " diterima, " + res.duplicates.length +
      " penukaran ganda, " + Object.keys(res.rejected).length + " ditolak";
    $("syncresult").textContent = msg;
    $("syncresult").className = res.duplicates.length ? "bad" : "ok";
    await refreshCounts();
  }

  const guard = (fn) => () => fn().catch((e) => { $("result").className = "bad"; $("result").textContent = "Gagal: " + e.message; });
  $("download").addEventListener("click", guard(download));
  $("verify").addEventListener("click", guard(verifyAndHandOver));
  $("sync").addEventListener("click", guard(sync));
  window.addEventListener("online", () => { refreshCounts(); sync().catch(() => {}); });
  window.addEventListener("offline", refreshCounts);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/lapangan/sw.js", { scope: "/lapangan/" }).catch(() => {});
  }
  refreshCounts();
  window.tepatField = { sync, download };
})();
