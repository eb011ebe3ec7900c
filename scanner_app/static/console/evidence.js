// Checks an evidence bundle (jiuyuan-evidence/1) in the browser, the same steps as
// `jiuyuan evidence verify` (api/compliance/evidence/verify.py), with the consumer page's
// WebCrypto primitives (../verify.js): nothing the server says is taken on trust.
import {
  VerificationError, b64decode, hex, hexdecode, jcs, leafHash, openCheckpoint, verifyInclusion,
} from "../verify.js";

const enc = new TextEncoder();
const ALERT_KINDS = ["compliance.alert.raised", "compliance.alert.updated"];
const DECISION_KINDS = ["compliance.alert.decided", "compliance.alert.appealed"];

/** Every step as {name, ok (true/false/null: not checked), detail}; `parsed` holds the
 *  proven entries by seq for display. The bundle is good only when every step is ok. */
export async function verifyBundle(bundle, pinnedKey) {
  const checks = [];
  const failed = new Set();
  const parsed = new Map();
  const run = async (name, fn, needs = []) => {
    const blocked = needs.filter((n) => failed.has(n));
    if (blocked.length) {
      failed.add(name);
      checks.push({ name, ok: null, detail: `not checked: ${blocked.join(", ")} failed` });
      return;
    }
    try {
      checks.push({ name, ok: true, detail: await fn() });
    } catch (err) {
      failed.add(name);
      checks.push({ name, ok: false, detail: err.message || String(err) });
    }
  };

  // 1. The checkpoint is signed by the key pinned in this browser, for the log's origin.
  let checkpoint = null;
  await run("checkpoint", async () => {
    if (bundle.format !== "jiuyuan-evidence/1") throw new VerificationError(`format ${bundle.format}`);
    if (bundle.log.verifier_key.trim() !== pinnedKey.trim()) {
      throw new VerificationError("the bundle's verifier key is not the key pinned in this browser");
    }
    checkpoint = await openCheckpoint(bundle.checkpoint.note, pinnedKey);
    if (checkpoint.origin !== bundle.log.origin) {
      throw new VerificationError(`checkpoint origin ${checkpoint.origin}, not ${bundle.log.origin}`);
    }
    if (checkpoint.size !== bundle.checkpoint.tree_size) {
      throw new VerificationError(`the note is for tree size ${checkpoint.size}, ` +
        `the bundle says ${bundle.checkpoint.tree_size}`);
    }
    return `${checkpoint.origin} · tree size ${checkpoint.size}`;
  });

  // 2. Each entry: canonical bytes, leaf hash, inclusion proof, the list items it stands for.
  const entryNames = bundle.entries.map((e) => `entry ${e.seq} (${e.role})`);
  for (const [i, entry] of bundle.entries.entries()) {
    await run(entryNames[i], async () => {
      const data = b64decode(entry.data);
      const leaf = await leafHash(data);
      if (hex(leaf) !== entry.leaf_hash) {
        throw new VerificationError("leaf hash is not SHA-256(0x00 ‖ entry bytes)");
      }
      const text = new TextDecoder().decode(data);
      const value = JSON.parse(text);
      if (value === null || typeof value !== "object" || jcs(value) !== text) {
        throw new VerificationError("entry bytes are not RFC 8785 canonical JSON of an object");
      }
      if (value.seq !== entry.seq) throw new VerificationError(`entry bytes say seq ${value.seq}`);
      if (entry.seq >= checkpoint.size) {
        throw new VerificationError(`seq ${entry.seq} is beyond the checkpoint's ${checkpoint.size}`);
      }
      await verifyInclusion(leaf, entry.seq, checkpoint.size, entry.proof.map(hexdecode),
        checkpoint.root);
      for (const member of entry.members) await checkMember(member, value.payload || {});
      parsed.set(entry.seq, value);
      const listed = entry.members.length ? `, ${entry.members.length} list item(s) proven` : "";
      return `${value.kind} · ${value.ts}${listed}`;
    }, ["checkpoint"]);
  }

  // 3. The alert: raised by an entry, resting on entries all present, decisions in order.
  await run("alert", () => checkAlert(bundle, [...parsed.values()]), entryNames);
  return { ok: checks.every((c) => c.ok === true), checks, parsed };
}

async function checkMember(member, payload) {
  if (member.kind === "listed") {
    const listed = payload[member.field];
    const item = jcs(member.item);
    if (jcs(listed) !== item && !(Array.isArray(listed) && listed.some((x) => jcs(x) === item))) {
      throw new VerificationError(`${item} is not in the payload's ${member.field}`);
    }
    return;
  }
  const root = payload[member.root_field];
  if (typeof root !== "string") throw new VerificationError(`the payload has no ${member.root_field}`);
  if (payload[member.count_field] !== member.size) {
    throw new VerificationError(`the payload's ${member.count_field} is ` +
      `${payload[member.count_field]}, the proof is for a list of ${member.size}`);
  }
  try {
    await verifyInclusion(await leafHash(enc.encode(jcs(member.item))), member.index, member.size,
      member.proof.map(hexdecode), hexdecode(root));
  } catch (err) {
    throw new VerificationError(`list item ${member.index}: ${err.message}`);
  }
}

function checkAlert(bundle, entries) {
  const ours = (kinds) => entries.filter((e) => kinds.includes(e.kind) &&
    e.payload?.alert === bundle.alert_id).sort((a, b) => a.seq - b.seq);
  const raised = ours(ALERT_KINDS);
  if (!raised.length) throw new VerificationError(`no entry raises alert ${bundle.alert_id}`);
  const latest = raised[raised.length - 1];
  const ids = new Set(entries.map((e) => e.id));
  const wanted = (latest.payload.signals || []).flatMap((s) => s.entries || []);
  const missing = wanted.find((id) => !ids.has(id));
  if (missing) throw new VerificationError(`the alert rests on entry ${missing}, absent from the bundle`);
  let state = "new";
  const decisions = ours(DECISION_KINDS);
  for (const d of decisions) {
    if (d.payload.from !== state) {
      throw new VerificationError(`decision at seq ${d.seq} moves from ${d.payload.from}, ` +
        `but the alert was ${state}`);
    }
    state = d.payload.to;
  }
  if (bundle.alert.state != null && bundle.alert.state !== state) {
    throw new VerificationError(`the bundle shows the alert ${bundle.alert.state}; its decisions say ${state}`);
  }
  return `${latest.payload.kind} · score ${latest.payload.score} · ${wanted.length} signal ` +
    `entries present · ${decisions.length} decision(s) · now ${state}`;
}
