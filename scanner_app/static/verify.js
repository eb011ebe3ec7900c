// Checks a resolver answer in the browser, trusting nothing the server says:
// the checkpoint's Ed25519 signature (C2SP signed note) against the pinned verifier key,
// then each entry's leaf, its RFC 9162 §2.1.3.2 inclusion proof against the checkpoint root,
// its list-membership proof, and that the facts shown equal the proven bytes.

const enc = new TextEncoder();

export class VerificationError extends Error {}

export function b64decode(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function hexdecode(text) {
  if (typeof text !== "string" || !/^([0-9a-f]{2})*$/i.test(text)) {
    throw new VerificationError(`not hex: ${text}`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export const leafHash = (bytes) => sha256(concat(Uint8Array.of(0), bytes));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

/** RFC 8785 canonical JSON (keys sorted by UTF-16 code units; ES number and string forms). */
export function jcs(value) {
  if (Array.isArray(value)) return `[${value.map(jcs).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** RFC 9162 §2.1.3.2: is `leaf` at `index` of a tree of `size` leaves with root `root`? */
export async function verifyInclusion(leaf, index, size, proof, root) {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
    throw new VerificationError(`index ${index} outside a tree of ${size}`);
  }
  // 1-2. fn = index, sn = size - 1, r = the leaf hash.
  let fn = index, sn = size - 1, r = leaf;
  const odd = (n) => n % 2 === 1;
  const half = (n) => Math.floor(n / 2);
  // 3. Walk the proof from the leaf up.
  for (const p of proof) {
    if (sn === 0) throw new VerificationError("inclusion proof too long");
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      if (!odd(fn)) while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn); sn = half(sn);
  }
  // 4. The walk must end at the root, with the whole proof used.
  if (sn !== 0) throw new VerificationError("inclusion proof too short");
  if (!equal(r, root)) throw new VerificationError("inclusion proof does not lead to the root");
}

/** Check a C2SP signed note against a verifier key; return {origin, size, root}. */
export async function openCheckpoint(note, verifierKey) {
  // 1. The verifier key: name+keyhash+base64(0x01 ‖ Ed25519 public key), hash self-consistent.
  // base64 may itself contain "+": only the first two separate fields.
  const [name, keyHash, ...rest] = verifierKey.trim().split("+");
  const keyB64 = rest.join("+");
  const key = b64decode(keyB64 || "");
  const expected = hex((await sha256(concat(enc.encode(name + "\n"), key))).slice(0, 4));
  if (key.length !== 33 || key[0] !== 1 || expected !== keyHash) {
    throw new VerificationError("malformed verifier key");
  }
  const publicKey = await crypto.subtle.importKey(
    "raw", key.slice(1), { name: "Ed25519" }, false, ["verify"]);
  // 2. The note: body, blank line, signature lines "— name base64(keyhash[4] ‖ sig[64])".
  const split = note.indexOf("\n\n");
  if (split < 0) throw new VerificationError("checkpoint note has no signatures");
  const body = note.slice(0, split + 1);
  for (const line of note.slice(split + 2).split("\n")) {
    const [dash, signer, sigB64] = line.split(" ");
    if (dash !== "\u2014" || signer !== name || !sigB64) continue;
    const sig = b64decode(sigB64);
    if (sig.length !== 68 || hex(sig.slice(0, 4)) !== keyHash) continue;
    // 3. Ed25519 over the body bytes.
    if (!(await crypto.subtle.verify("Ed25519", publicKey, sig.slice(4), enc.encode(body)))) {
      throw new VerificationError("checkpoint signature is not valid");
    }
    // 4. The signed body: origin, tree size, base64 root hash.
    const [origin, size, root] = body.split("\n");
    if (!/^[1-9][0-9]*$/.test(size)) throw new VerificationError("bad tree size in checkpoint");
    return { origin, size: Number(size), root: b64decode(root) };
  }
  throw new VerificationError("checkpoint is not signed by the pinned key");
}

/** Verify every entry of a lookup; resolves to {checked, pending} or throws VerificationError. */
export async function verifyLookup(lookup, pinnedKey) {
  const cp = lookup.checkpoint;
  if (!cp) return { checked: 0, pending: lookup.entries.length };
  const checkpoint = await openCheckpoint(cp.note, pinnedKey || cp.verifier_key);
  if (checkpoint.size !== cp.tree_size || hex(checkpoint.root) !== cp.root_hash) {
    throw new VerificationError("checkpoint fields differ from the signed note");
  }
  let checked = 0, pending = 0;
  for (const entry of lookup.entries) {
    if (entry.status !== "proven") { pending++; continue; }
    // Leaf: SHA-256(0x00 ‖ the exact canonical bytes).
    const data = b64decode(entry.data);
    const leaf = await leafHash(data);
    if (hex(leaf) !== entry.leaf_hash) throw new VerificationError(`leaf hash of ${entry.id}`);
    // The facts shown come from these bytes.
    const proven = JSON.parse(new TextDecoder().decode(data));
    if (proven.id !== entry.id || proven.kind !== entry.kind || proven.seq !== entry.seq ||
        jcs(proven.payload) !== jcs(entry.payload)) {
      throw new VerificationError(`entry ${entry.id} differs from its proven bytes`);
    }
    if (entry.tree_size !== checkpoint.size) {
      throw new VerificationError(`entry ${entry.id} is proven to another checkpoint`);
    }
    await verifyInclusion(leaf, entry.seq, entry.tree_size, entry.proof.map(hexdecode),
      checkpoint.root);
    const m = entry.member;
    if (m) {
      const listRoot = entry.payload.codes_root ?? entry.payload.readings_root;
      if (m.root !== listRoot) throw new VerificationError(`list root of ${entry.id}`);
      await verifyInclusion(await leafHash(enc.encode(jcs(m.item))), m.index, m.size,
        m.proof.map(hexdecode), hexdecode(m.root));
    }
    checked++;
  }
  return { checked, pending };
}
