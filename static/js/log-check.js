// 「验证」 on a published disclosure's page (templates/disclosure/_log_check.html): the browser
// itself checks, with WebCrypto and nothing of the site's code but this file, that the page's
// content hash is in the transparency log (docs/transparency-log.md):
//
//   1. /log/checkpoint and /log/key: the checkpoint's signature by the log's key (signed-note,
//      Ed25519) and each witness's cosignature (tlog-cosignature/v1);
//   2. the entry bundle holding the disclosure's entry: its `index` is the page's, its
//      payload's `content_sha256` the page's;
//   3. the entry's inclusion proof, computed from the hash tiles (tlog-tiles), leads to the
//      checkpoint's root hash (RFC 9162 §2.1.3).
//
// It then says what held, or exactly what did not, with the words the template gives (in the
// page's language). Without this script, or in a browser without Ed25519 in WebCrypto, the
// button stays hidden and the page shows the same facts as text.
//
// Layers, each a port of its Python counterpart so both read alike: bytes; Merkle proofs
// (council/tlog/merkle.py); tiles (council/tlog/tiles.py); signed notes (council/tlog/note.py);
// `check`, the whole check, which returns what held or throws a CheckError(code, params);
// and the page. `window.WeishiLogCheck` exposes `check` to the browser tests.
(function () {
  "use strict";

  // --- bytes --------------------------------------------------------------------------------

  var utf8 = new TextEncoder();

  function CheckError(code, params) {
    this.code = code;
    this.params = params || {};
    this.message = code;
  }
  CheckError.prototype = Object.create(Error.prototype);

  function concat() {
    var length = 0, i;
    for (i = 0; i < arguments.length; i++) length += arguments[i].length;
    var out = new Uint8Array(length), at = 0;
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], at); at += arguments[i].length; }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function toHex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  // The bytes of canonical standard base64 (as note.py's _b64decode), or null.
  function fromBase64(text) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) return null;
    var binary;
    try { binary = atob(text); } catch (e) { return null; }
    if (btoa(binary) !== text) return null;  // one written form per value
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  // --- Merkle tree hashing and inclusion proofs (RFC 9162 §2.1; council/tlog/merkle.py) ------
  // Sizes and indexes are plain numbers: exact up to 2^53, far beyond any community's log;
  // no bit operator is used on them (JavaScript's are 32-bit).

  var LEAF = new Uint8Array([0]), NODE = new Uint8Array([1]);

  function leafHash(entry) { return sha256(concat(LEAF, entry)); }
  function nodeHash(left, right) { return sha256(concat(NODE, left, right)); }

  function isPowerOfTwo(n) { while (n > 1 && n % 2 === 0) n /= 2; return n === 1; }
  function log2(n) { var k = 0; while (n > 1) { n /= 2; k++; } return k; }

  // The largest power of two smaller than n (n ≥ 2): where RFC 9162 splits a tree.
  function split(n) { var k = 1; while (k * 2 < n) k *= 2; return k; }

  // MTH(D[start:end]) from stored hashes: hashAt(level, index) is the root of the complete
  // subtree of 2^level leaves starting at leaf index·2^level.
  async function subtreeHash(hashAt, start, end) {
    var n = end - start;
    if (isPowerOfTwo(n) && start % n === 0) return hashAt(log2(n), start / n);
    var k = split(n);
    return nodeHash(await subtreeHash(hashAt, start, start + k), await subtreeHash(hashAt, start + k, end));
  }

  // PATH(index, D[0:size]), RFC 9162 §2.1.3.1.
  async function inclusionProof(hashAt, index, size) {
    var path = [], start = 0, end = size, m = index;
    while (end - start > 1) {
      var k = split(end - start);
      if (m < k) {
        path.push(await subtreeHash(hashAt, start + k, end));
        end = start + k;
      } else {
        path.push(await subtreeHash(hashAt, start, start + k));
        start += k;
        m -= k;
      }
    }
    return path.reverse();
  }

  // The root that `proof` leads to from leaf hash `leaf` at `index`, RFC 9162 §2.1.3.2; null
  // when the proof's length does not fit the tree.
  async function rootFromInclusion(index, size, leaf, proof) {
    if (!(index >= 0 && index < size)) return null;
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < proof.length; i++) {
      if (sn === 0) return null;  // too long
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(proof[i], r);
        while (fn % 2 === 0 && fn !== 0) { fn /= 2; sn = Math.floor(sn / 2); }
      } else {
        r = await nodeHash(r, proof[i]);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;  // else too short
  }

  // --- tiles (c2sp.org/tlog-tiles; council/tlog/tiles.py) -----------------------------------

  var HEIGHT = 8, WIDTH = 256, HASH_SIZE = 32;

  // 1234067 → x001/x234/067
  function encodeIndex(n) {
    var digits = String(n);
    while (digits.length % 3) digits = "0" + digits;
    var groups = digits.match(/.../g);
    return groups.map(function (g, i) { return i < groups.length - 1 ? "x" + g : g; }).join("/");
  }

  function tilePath(level, index, width) {
    var path = "tile/" + level + "/" + encodeIndex(index);
    return width === WIDTH ? path : path + ".p/" + width;
  }

  // How many hashes tile (level, index) holds in a tree of `size` leaves: (size >> 8·level)
  // − 256·index, clipped to 0…256.
  function tileWidth(level, index, size) {
    var stored = Math.floor(size / Math.pow(2, HEIGHT * level));
    return Math.max(0, Math.min(WIDTH, stored - index * WIDTH));
  }

  // Stored hashes of the tree of `size` leaves, read from its tiles through `fetchBytes(path)`:
  // each tile fetched once, the levels inside it hashed once.
  function TileReader(fetchBytes, size) {
    this.fetchBytes = fetchBytes;
    this.size = size;
    this.tiles = {};
  }

  TileReader.prototype.levels = function (level, index) {
    var key = level + "/" + index;
    if (!this.tiles[key]) this.tiles[key] = this.load(level, index);
    return this.tiles[key];
  };

  TileReader.prototype.load = async function (level, index) {
    var width = tileWidth(level, index, this.size);
    var path = tilePath(level, index, width);
    if (width === 0) throw new CheckError("bad-tile", { path: path });
    var data = await this.fetchBytes(path, "bad-tile");
    if (data.length !== width * HASH_SIZE) throw new CheckError("bad-tile", { path: path });
    var hashes = [];
    for (var i = 0; i < width; i++) hashes.push(data.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
    var levels = [hashes];
    while (hashes.length > 1) {
      var up = [];
      for (var j = 0; j + 1 < hashes.length; j += 2) up.push(await nodeHash(hashes[j], hashes[j + 1]));
      levels.push(up);
      hashes = up;
    }
    return levels;
  };

  // A stored hash at (level ℓ, index k) comes from the level-⌊ℓ/8⌋ tile, as the root of the
  // 2^(ℓ mod 8) hashes of that tile it covers.
  TileReader.prototype.hashAt = async function (level, index) {
    var tileLevel = Math.floor(level / HEIGHT), inner = level % HEIGHT;
    var first = index * Math.pow(2, inner);  // its first hash at the tile's level
    var levels = await this.levels(tileLevel, Math.floor(first / WIDTH));
    var hash = levels[inner] && levels[inner][index % (WIDTH / Math.pow(2, inner))];
    // Only a proof asking past the tree would get here; the tiles were read whole and checked.
    if (!hash) throw new CheckError("bad-tile", { path: "tile/" + tileLevel + "/" + encodeIndex(Math.floor(first / WIDTH)) });
    return hash;
  };

  // The entries of a bundle: each a 2-byte big-endian length, then that many bytes.
  function bundleDecode(data, width) {
    var entries = [], at = 0;
    while (at < data.length) {
      if (at + 2 > data.length) return null;
      var n = data[at] * 256 + data[at + 1];
      if (at + 2 + n > data.length) return null;
      entries.push(data.subarray(at + 2, at + 2 + n));
      at += 2 + n;
    }
    return entries.length === width ? entries : null;
  }

  // --- signed notes, keys, checkpoints (c2sp.org/signed-note; council/tlog/note.py) ---------

  var TYPE_ED25519 = 1, TYPE_COSIGNATURE = 4;

  // <name>+<key ID, 8 hex>+<base64(type ‖ 32-byte public key)>, its key ID checked.
  async function parseVerifierKey(line) {
    // The base64 key may itself hold "+": the name and key ID end at the first two.
    var first = line.indexOf("+"), second = line.indexOf("+", first + 1);
    if (first < 1 || second < 0) return null;
    var parts = [line.slice(0, first), line.slice(first + 1, second), line.slice(second + 1)];
    if (!/^[0-9a-f]{8}$/i.test(parts[1])) return null;
    var raw = fromBase64(parts[2]);
    if (!raw || raw.length !== 33) return null;
    var type = raw[0], publicKey = raw.subarray(1);
    if (type !== TYPE_ED25519 && type !== TYPE_COSIGNATURE) return null;
    var id = (await sha256(concat(utf8.encode(parts[0] + "\n"), raw))).subarray(0, 4);
    if (toHex(id) !== parts[1].toLowerCase()) return null;
    return { name: parts[0], id: id, type: type, publicKey: publicKey, text: line };
  }

  // A note's text (up to and with the newline before the last empty line) and its signature
  // lines "— <name> <base64(key ID ‖ signature)>"; null if it is not a note.
  function splitNote(note) {
    var at = note.lastIndexOf("\n\n");
    if (at < 0 || !note.endsWith("\n")) return null;
    var text = note.slice(0, at + 1), lines = note.slice(at + 2, -1).split("\n"), signatures = [];
    for (var i = 0; i < lines.length; i++) {
      var match = /^\u2014 (\S+) (\S+)$/.exec(lines[i]);
      var raw = match && fromBase64(match[2]);
      if (!raw || raw.length < 5) return null;
      signatures.push({ name: match[1], id: raw.subarray(0, 4), signature: raw.subarray(4) });
    }
    return { text: text, signatures: signatures };
  }

  // origin, size (decimal, no leading zero), root hash (base64 of 32 bytes); null otherwise.
  function parseCheckpoint(text) {
    var lines = text.slice(0, -1).split("\n");
    if (lines.length < 3 || !lines[0] || !/^(0|[1-9][0-9]*)$/.test(lines[1])) return null;
    var size = Number(lines[1]), root = fromBase64(lines[2]);
    if (!Number.isSafeInteger(size) || !root || root.length !== 32) return null;
    return { origin: lines[0], size: size, root: root };
  }

  function signatureBy(note, key) {
    for (var i = 0; i < note.signatures.length; i++) {
      var s = note.signatures[i];
      if (s.name === key.name && equal(s.id, key.id)) return s;
    }
    return null;
  }

  async function ed25519Verify(publicKey, signature, message) {
    var key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  // A witness's cosignature/v1: key ID ‖ 8-byte big-endian time t ‖ Ed25519 signature of
  // "cosignature/v1\ntime <t>\n" + text.
  async function cosignatureVerify(key, signature, text) {
    if (signature.length !== 8 + 64) return false;
    var time = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
    var message = utf8.encode("cosignature/v1\ntime " + time.toString() + "\n" + text);
    return ed25519Verify(key.publicKey, signature.subarray(8), message);
  }

  // --- the check ----------------------------------------------------------------------------

  async function fetchResponse(url, code, params, options) {
    var response;
    try {
      response = await fetch(url, options || {});
    } catch (e) {
      throw new CheckError("unreachable", { url: url });
    }
    if (!response.ok) {
      if (code && response.status === 404) throw new CheckError(code, params);
      throw new CheckError("http", { url: url, status: response.status });
    }
    return response;
  }

  // Check that the entry at `leafIndex` records `contentSha256` and is in the log's published
  // checkpoint, signed by the log and cosigned by every witness /log/key lists. `checkpointUrl`
  // and `keyUrl` are the log's; its tiles are under the checkpoint's folder (tlog-tiles).
  // Returns {number, size, witnesses: [names], logKey}; throws a CheckError saying what failed.
  async function check(options) {
    var index = options.leafIndex, expected = options.contentSha256;
    var number = index + 1;
    var prefix = new URL(".", new URL(options.checkpointUrl, location.href)).href;

    var noteText = await (await fetchResponse(options.checkpointUrl, null, null, { cache: "no-store" })).text();
    var keysText = await (await fetchResponse(options.keyUrl, null, null, { cache: "no-cache" })).text();

    var note = splitNote(noteText);
    var checkpoint = note && parseCheckpoint(note.text);
    if (!checkpoint) throw new CheckError("checkpoint", {});

    var keys = [], lines = keysText.split("\n").filter(function (l) { return l.trim(); });
    for (var i = 0; i < lines.length; i++) {
      var key = await parseVerifierKey(lines[i].trim());
      if (!key) throw new CheckError("bad-key", { key: lines[i].trim().slice(0, 80) });
      keys.push(key);
    }
    var logKey = keys.filter(function (k) { return k.type === TYPE_ED25519 && k.name === checkpoint.origin; })[0];
    if (!logKey) throw new CheckError("no-log-key", { origin: checkpoint.origin });
    var keyName = logKey.name + "+" + toHex(logKey.id);
    var logSignature = signatureBy(note, logKey);
    if (!logSignature) throw new CheckError("unsigned", { key: keyName });
    if (!(await ed25519Verify(logKey.publicKey, logSignature.signature, utf8.encode(note.text)))) {
      throw new CheckError("bad-signature", { key: keyName });
    }
    var witnesses = [];
    var witnessKeys = keys.filter(function (k) { return k.type === TYPE_COSIGNATURE; });
    for (i = 0; i < witnessKeys.length; i++) {
      var cosignature = signatureBy(note, witnessKeys[i]);
      if (!cosignature) throw new CheckError("witness-missing", { name: witnessKeys[i].name });
      if (!(await cosignatureVerify(witnessKeys[i], cosignature.signature, note.text))) {
        throw new CheckError("bad-witness", { name: witnessKeys[i].name });
      }
      witnesses.push(witnessKeys[i].name);
    }

    var size = checkpoint.size;
    if (index >= size) throw new CheckError("not-yet", { number: number, size: size });

    async function fetchBytes(path, code) {
      var response = await fetchResponse(prefix + path, code, { path: path, number: number });
      return new Uint8Array(await response.arrayBuffer());
    }

    var bundleIndex = Math.floor(index / WIDTH);
    var bundleWidth = tileWidth(0, bundleIndex, size);
    var bundlePath = tilePath("entries", bundleIndex, bundleWidth);
    var entries = bundleDecode(await fetchBytes(bundlePath, "bad-bundle"), bundleWidth);
    if (!entries) throw new CheckError("bad-bundle", { number: number, path: bundlePath });
    var entryBytes = entries[index % WIDTH], entry;
    try {
      entry = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(entryBytes));
    } catch (e) {
      throw new CheckError("bad-entry", { number: number });
    }
    if (!entry || typeof entry !== "object") throw new CheckError("bad-entry", { number: number });
    if (entry.index !== index) {
      throw new CheckError("wrong-index", { number: number, found: String(entry.index), index: index });
    }
    var found = entry.payload && entry.payload.content_sha256;
    if (found !== expected) {
      throw new CheckError("wrong-hash", { number: number, found: String(found || "—"), expected: expected });
    }

    var reader = new TileReader(fetchBytes, size);
    var hashAt = function (level, k) { return reader.hashAt(level, k); };
    var proof = await inclusionProof(hashAt, index, size);
    var root = await rootFromInclusion(index, size, await leafHash(entryBytes), proof);
    if (!root || !equal(root, checkpoint.root)) throw new CheckError("proof", { number: number });

    return { number: number, size: size, witnesses: witnesses, logKey: logKey.text };
  }

  // Whether this browser verifies Ed25519 in WebCrypto (RFC 8032's first test vector).
  async function ed25519Works() {
    try {
      if (!window.crypto || !crypto.subtle || !window.fetch) return false;  // not a secure context
      var hex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a" +
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
      var bytes = new Uint8Array(hex.match(/../g).map(function (h) { return parseInt(h, 16); }));
      return await ed25519Verify(bytes.subarray(0, 32), bytes.subarray(32), new Uint8Array(0));
    } catch (e) {
      return false;
    }
  }

  // --- the page -----------------------------------------------------------------------------

  function setUp(box) {
    if (box.dataset.ready) return;
    box.dataset.ready = "1";
    var button = box.querySelector("[data-log-check-button]");
    var result = box.querySelector("[data-log-check-result]");
    var messages = box.querySelector("[data-log-check-messages]").content;

    function words(code, params) {
      var el = messages.querySelector('[data-message="' + code + '"]');
      var text = el ? el.textContent.trim() : code;
      return text.replace(/\{(\w+)\}/g, function (all, name) {
        return params && name in params ? String(params[name]) : all;
      });
    }

    function show(ok, title, lines) {
      result.textContent = "";
      result.className = "log-check-result " + (ok === null ? "working" : ok ? "ok" : "failed");
      if (title) {
        var strong = document.createElement("p");
        strong.className = "log-check-title";
        strong.textContent = title;
        result.appendChild(strong);
      }
      lines.forEach(function (line) {
        var p = document.createElement("p");
        p.textContent = line;
        result.appendChild(p);
      });
    }

    button.addEventListener("click", async function () {
      button.disabled = true;
      show(null, "", [words("working")]);
      try {
        var held = await check({
          leafIndex: Number(box.dataset.leafIndex),
          contentSha256: box.dataset.contentSha256,
          checkpointUrl: box.dataset.checkpointUrl,
          keyUrl: box.dataset.keyUrl,
        });
        var n = held.witnesses.length;
        var lines = [words(n === 0 ? "ok-0" : n === 1 ? "ok-1" : "ok-n", {
          number: held.number, size: held.size, witnesses: n,
        })];
        if (n) lines.push(words("witnesses", { names: held.witnesses.join(words("separator")) }));
        lines.push(words("key", { key: held.logKey }));
        show(true, words("ok-title"), lines);
      } catch (error) {
        var known = error instanceof CheckError;
        show(false, words("failed-title"), [
          known ? words(error.code, error.params) : words("error", { detail: String(error && error.message || error) }),
        ]);
      } finally {
        button.disabled = false;
      }
    });

    ed25519Works().then(function (works) {
      box.hidden = false;
      if (!works) {
        // Said rather than hidden: the resident learns why there is no button, and where to go.
        button.hidden = true;
        box.querySelector(".log-check-intro").hidden = true;
        show(false, "", [words("unsupported")]);
      }
    });
  }

  window.WeishiLogCheck = { check: check, CheckError: CheckError };

  function all() {
    document.querySelectorAll("[data-log-check]").forEach(setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
