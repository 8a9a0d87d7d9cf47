// Verifies a Tepat ledger receipt in the browser: RFC 9162 inclusion proof with WebCrypto
// SHA-256 and, where the browser supports it, the checkpoint's Ed25519 note signature.
// The same steps as src/tepat/ledger/receipts.py; nothing leaves the page.
(function () {
  "use strict";

  var enc = new TextEncoder();

  function b64(s) {
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function concat() {
    var total = 0, i;
    for (i = 0; i < arguments.length; i++) total += arguments[i].length;
    var out = new Uint8Array(total), at = 0;
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], at); at += arguments[i].length; }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    var d = 0;
    for (var i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  function nodeHash(l, r) { return sha256(concat(new Uint8Array([1]), l, r)); }

  // RFC 9162 section 2.1.3.2. Sizes stay below 2^53, so plain numbers are exact;
  // division replaces shifts to avoid 32-bit truncation.
  async function rootFromInclusion(index, size, leaf, proof) {
    if (!(index >= 0 && index < size)) throw new Error("index");
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (p.length !== 32 || sn === 0) throw new Error("proof");
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("proof");
    return r;
  }

  function parseNote(message) {
    var cut = message.lastIndexOf("\n\n");
    if (cut < 0) throw new Error("note");
    var text = message.slice(0, cut + 1);
    var sigs = message.slice(cut + 2).split("\n").filter(function (l) { return l.length; });
    return {
      text: text,
      sigs: sigs.map(function (line) {
        if (line.indexOf("\u2014 ") !== 0) throw new Error("note");
        var parts = line.slice(2).split(" ");
        var raw = b64(parts[1]);
        return { name: parts[0], keyId: raw.slice(0, 4), sig: raw.slice(4) };
      }),
    };
  }

  async function parseKey(vkey) {
    var first = vkey.indexOf("+"), second = vkey.indexOf("+", first + 1);
    var name = vkey.slice(0, first), raw = b64(vkey.slice(second + 1));
    if (raw.length !== 33 || raw[0] !== 1) throw new Error("key");
    var pub = raw.slice(1);
    var id = (await sha256(concat(enc.encode(name + "\n"), new Uint8Array([1]), pub))).slice(0, 4);
    return { name: name, pub: pub, keyId: id };
  }

  // true: every signature by a trusted key verifies, and there is one; "bad": a trusted key's
  // signature fails (the note is refused whole, as receipts.py does); false: no trusted key
  // signed; null: this browser could not check Ed25519 (not supported, or the check threw), so
  // the receipt is "not verified", never "valid".
  async function checkSignature(note, keys) {
    var good = 0, unchecked = false;
    for (var k = 0; k < keys.length; k++) {
      for (var s = 0; s < note.sigs.length; s++) {
        var sig = note.sigs[s], key = keys[k], ok;
        if (sig.name !== key.name || !equal(sig.keyId, key.keyId)) continue;
        try {
          var ck = await crypto.subtle.importKey("raw", key.pub, { name: "Ed25519" }, false, ["verify"]);
          ok = await crypto.subtle.verify({ name: "Ed25519" }, ck, sig.sig, enc.encode(note.text));
        } catch (e) {
          unchecked = true;
          continue;
        }
        if (ok !== true) return "bad";
        good++;
      }
    }
    if (unchecked) return null;
    return good > 0;
  }

  async function verify(receipt, vkeys, msg) {
    if (!receipt || receipt.format !== "tepat-ledger-receipt/v1") return { ok: false, reason: msg.bad_format };
    var note = parseNote(receipt.checkpoint);
    var lines = note.text.split("\n");
    var size = Number(lines[1]), root = b64(lines[2]);
    if (size !== Number(receipt.tree_size)) return { ok: false, reason: msg.size_mismatch };
    var keys = [];
    for (var i = 0; i < vkeys.length; i++) {
      try { keys.push(await parseKey(vkeys[i])); } catch (e) { /* skip a malformed key */ }
    }
    var signed = await checkSignature(note, keys);
    if (signed === "bad") return { ok: false, reason: msg.bad_sig };
    if (signed === false) return { ok: false, reason: msg.no_key };
    var leaf = await sha256(concat(new Uint8Array([0]), enc.encode(receipt.entry)));
    var proof = receipt.proof.map(b64);
    try {
      var got = await rootFromInclusion(Number(receipt.index), size, leaf, proof);
      if (!equal(got, root)) return { ok: false, reason: msg.bad_proof };
    } catch (e) {
      return { ok: false, reason: msg.bad_proof };
    }
    // The proof holds, but without a checked signature anyone could have made the checkpoint.
    if (signed !== true) return { ok: false, unverified: true, reason: msg.no_sig_check };
    if (receipt.opening) {
      var amount = await openedAmount(receipt.entry, receipt.opening);
      if (amount === null) return { ok: false, reason: msg.bad_opening };
      return { ok: true, amount: amount };
    }
    return { ok: true };
  }

  // A citizen's own receipt opens the entry's per-payment pseudonym: HMAC-SHA256 keyed with the
  // payment's salt over domain, payment, beneficiary and exact amount (tepat.ledger.entries).
  // Returns the exact amount, or null when the opening does not recompute the entry.
  async function openedAmount(entryText, opening) {
    var entry;
    try { entry = JSON.parse(entryText); } catch (e) { return null; }
    if (!entry || entry.v !== 2 || typeof opening.salt !== "string" || !/^[0-9a-f]{32,}$/.test(opening.salt)) return null;
    var amount = Number(opening.amount);
    if (!Number.isSafeInteger(amount)) return null;
    var low = "amount" in entry ? entry.amount : entry.amount_min;
    var high = "amount" in entry ? entry.amount : entry.amount_max;
    if (!(low <= amount && amount <= high)) return null;
    var salt = new Uint8Array(opening.salt.match(/../g).map(function (h) { return parseInt(h, 16); }));
    var key = await crypto.subtle.importKey("raw", salt, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    var message = ["tepat/ledger/payment-pseudonym/v2", String(entry.payment), String(opening.beneficiary), String(amount)].join("\u0000");
    var mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(message)));
    var hex = Array.from(mac, function (b) { return b.toString(16).padStart(2, "0"); }).join("").slice(0, 32);
    return hex === entry.beneficiary ? amount : null;
  }

  // An exact amount as people read rupiah: 5831325 -> "5.831.325" (the message adds "Rp").
  function thousands(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "."); }

  // state: "success", "warning" or "error".
  function show(box, state, text, extra) {
    box.textContent = "";
    var div = document.createElement("div");
    div.className = "usa-alert usa-alert--" + state;
    var body = document.createElement("div");
    body.className = "usa-alert__body";
    var p = document.createElement("p");
    p.className = "usa-alert__text";
    p.textContent = text;
    body.appendChild(p);
    if (extra) {
      var q = document.createElement("p");
      q.className = "usa-alert__text";
      q.textContent = extra;
      body.appendChild(q);
    }
    div.appendChild(body);
    box.appendChild(div);
  }

  // fields: {names: {key: words}, money: [keys of rupiah values]} from the page.
  function showEntry(table, entryText, fields) {
    var tbody = table.querySelector("tbody");
    tbody.textContent = "";
    var entry;
    try { entry = JSON.parse(entryText); } catch (e) { table.hidden = true; return; }
    Object.keys(entry).sort().forEach(function (k) {
      var tr = document.createElement("tr");
      var th = document.createElement("th"); th.scope = "row";
      var name = fields.names[k];
      th.textContent = name ? name + " (" + k + ")" : k;
      var money = fields.money.indexOf(k) >= 0 && Number.isSafeInteger(entry[k]);
      var td = document.createElement("td"); td.textContent = money ? "Rp" + thousands(entry[k]) : String(entry[k]);
      tr.appendChild(th); tr.appendChild(td); tbody.appendChild(tr);
    });
    table.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("ledger-receipt-form");
    if (!form) return;
    var msg = JSON.parse(document.getElementById("ledger-messages").textContent);
    var fields = JSON.parse(document.getElementById("ledger-entry-fields").textContent);
    var published = JSON.parse(document.getElementById("ledger-log-keys").textContent);
    var box = document.getElementById("receipt-result");
    var table = document.getElementById("receipt-entry");
    var fileInput = document.getElementById("receipt-file");
    var textArea = document.getElementById("receipt-text");

    fileInput.addEventListener("change", function () {
      var f = fileInput.files && fileInput.files[0];
      if (!f) return;
      f.text().then(function (t) { textArea.value = t; form.requestSubmit(); });
    });

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      table.hidden = true;
      if (!window.crypto || !crypto.subtle) { show(box, "warning", msg.unverified, msg.no_webcrypto); return; }
      var receipt;
      try { receipt = JSON.parse(textArea.value); } catch (e) { show(box, "error", msg.invalid, msg.bad_json); return; }
      var extraKey = document.getElementById("log-key").value.trim();
      var keys = extraKey ? [extraKey] : published;
      box.textContent = msg.checking;
      verify(receipt, keys, msg).then(function (r) {
        if (r.ok) {
          show(box, "success", msg.valid, r.amount === undefined ? "" : msg.opened.replace("{amount}", thousands(r.amount)));
          showEntry(table, receipt.entry, fields);
        } else if (r.unverified) {
          show(box, "warning", msg.unverified, r.reason);
        } else {
          show(box, "error", msg.invalid, r.reason);
        }
      }, function () { show(box, "error", msg.invalid, msg.bad_format); });
    });
  });
})();
