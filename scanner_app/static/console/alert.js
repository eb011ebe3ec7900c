// One alert: its facts and signals, the decision workflow (new → investigating → confirmed /
// dismissed, each decision a ledger entry) and its evidence bundle, verified in this browser.
import { download, request } from "./api.js";
import { table } from "./dom.js";
import { verifyBundle } from "./evidence.js";
import { el, fill, pinnedKey, typed } from "../shared/dom.js";
import { fmtTime } from "./i18n.js";
import { b64decode } from "../verify.js";

const NEXT = { new: ["investigating", "confirmed", "dismissed"],
  investigating: ["confirmed", "dismissed"], confirmed: [], dismissed: [] };

export async function alertView(main, ctx, alertId) {
  const alert = await request(`/v1/compliance/alerts/${encodeURIComponent(alertId)}`);
  // Drawn again (the language switched): a reason being written for this alert stays, with
  // its focus, whatever the user typed while the alert loaded.
  const mine = main.querySelector("#decision")?.dataset.alert === alert.id;
  const entered = typed(main);
  render(main, ctx, alert, null);
  if (mine) entered.into(main);
}

function render(main, ctx, alert, notice) {
  const t = ctx.t, a = t.a;
  document.title = `${t.alert} ${alert.id} · ${t.title}`;
  const time = (v) => (v ? fmtTime(v, ctx.lang) : null);
  const facts = [
    [a.id, el("code", {}, alert.id)], [a.kind, t.kind[alert.kind]],
    [a.strength, t.strength[alert.strength]],
    [a.state, el("span", { class: `tag ${alert.state}`, id: "alert-state" }, t.state[alert.state])],
    [a.score, String(alert.score)], [a.dealer, ctx.nameOf(alert.dealer_id)],
    [a.region, ctx.nameOf(alert.region_id)],
    [a.toRegion, alert.to_region_id ? ctx.nameOf(alert.to_region_id) : null],
    [a.place, alert.place_name], [a.code, el("code", {}, alert.code)], [a.sku, ctx.nameOf(alert.gtin)],
    [a.allocated, time(alert.allocated_at)], [a.first, time(alert.first_seen_at)],
    [a.last, time(alert.last_seen_at)], [a.detected, time(alert.detected_at)],
    [a.decided, time(alert.decided_at)],
    [a.reason, alert.decision_reason ? el("span", { id: "decision-reason" }, alert.decision_reason) : null],
    [a.appeal, alert.appeal_reason
      ? `${t.appealState[alert.appeal_state] || alert.appeal_state}: ${alert.appeal_reason}` : null],
  ].filter(([, v]) => v != null && v !== "");
  const evidence = el("section", { id: "evidence", "aria-labelledby": "evidence-h" },
    el("h2", { id: "evidence-h" }, t.evidence));
  fill(main,
    el("p", {}, el("a", { href: "#/alerts", id: "back" }, t.back)),
    el("h1", {}, `${t.alert} · ${t.kind[alert.kind]} · ${ctx.nameOf(alert.dealer_id)}`),
    notice,
    el("div", { class: "grid2" },
      el("section", { "aria-labelledby": "facts-h" }, el("h2", { id: "facts-h" }, t.facts),
        el("dl", { id: "facts" }, facts.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]))),
      decisionPanel(main, ctx, alert)),
    el("h2", {}, t.signals),
    table("signals", t.signals, t.signalCols, alert.signals.map((s) => el("tr", {},
      el("td", {}, t.signalName[s.signal] || s.signal), el("td", {}, t.strength[s.strength]),
      el("td", { class: "num" }, String(s.points)), el("td", { class: "num" }, String(s.count)),
      el("td", {}, s.place || "—"), el("td", {}, ctx.nameOf(s.party)),
      el("td", {}, fmtTime(s.at, ctx.lang)))), [2, 3]),
    el("h2", {}, t.history),
    table("history", t.history, t.historyCols, alert.events.map((e) => el("tr", {},
      el("td", { class: "num" }, String(e.n)), el("td", {}, fmtTime(e.at, ctx.lang)),
      el("td", {}, el("code", {}, e.actor)), el("td", {}, t.action[e.action] || e.action),
      el("td", {}, `${e.from_state ? t.state[e.from_state] + " → " : ""}${t.state[e.to_state] || ""}`),
      el("td", {}, e.reason || "—"), el("td", {}, el("code", {}, e.entry_id)))), [0]),
    evidence);
  showEvidence(evidence, ctx, alert);
}

function decisionPanel(main, ctx, alert) {
  const t = ctx.t;
  const box = el("section", { class: "decision", "aria-labelledby": "decision-h" },
    el("h2", { id: "decision-h" }, t.decision));
  const allowed = NEXT[alert.state] || [];
  if (!allowed.length) { box.append(el("p", { id: "decision-final" }, t.final)); return box; }
  const error = el("p", { role: "alert", id: "decision-error" });
  const reason = el("textarea", { id: "reason", name: "reason", maxlength: 2000,
    "aria-describedby": "decision-hint" });
  const labels = { investigating: t.investigate, confirmed: t.confirm[alert.kind],
    dismissed: t.dismiss };
  const styles = { investigating: "secondary", confirmed: "danger", dismissed: "primary" };
  const form = el("form", { class: "card", id: "decision", "data-alert": alert.id },
    el("p", { class: "small", id: "decision-hint" }, t.decisionHint),
    el("label", { for: "reason" }, t.reasonLabel), reason,
    el("div", { class: "actions" }, allowed.map((to) =>
      el("button", { type: "submit", class: styles[to], value: to, name: "to" }, labels[to]))),
    error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const to = ev.submitter?.value;
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const updated = await request(`/v1/compliance/alerts/${encodeURIComponent(alert.id)}/decision`,
        { method: "POST", body: { to, reason: reason.value.trim() || null } });
      render(main, ctx, updated, el("p", { class: "msg done", role: "status", id: "decision-done",
        tabindex: -1 }, t.decided(t.state[updated.state])));
      document.getElementById("decision-done").focus();
    } catch (err) {
      error.className = "msg error";
      error.textContent = err.message;
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  box.append(form);
  return box;
}

async function showEvidence(section, ctx, alert, attempt = 0) {
  const t = ctx.t;
  const badge = (state, detail) => el("div", { class: `badge ${state}`, id: "evidence-badge",
    role: "status" }, t.badge[state], detail ? el("div", { class: "small" }, detail) : null);
  const head = section.firstChild;
  fill(section, head, badge("checking"));
  const path = `/v1/compliance/alerts/${encodeURIComponent(alert.id)}/evidence`;
  let bundle;
  try {
    bundle = await request(path);
  } catch (err) {
    // Entries still being sequenced or checkpointed: the log publishes within seconds.
    if (err.code === "evidence_pending" && attempt < 15 && section.isConnected) {
      fill(section, head, badge("pending", err.message));
      setTimeout(() => showEvidence(section, ctx, alert, attempt + 1),
        1000 * Math.min(err.retryAfter || 1, 2));
      return;
    }
    fill(section, head, badge("failed", err.message));
    return;
  }
  let result;
  try {
    result = await verifyBundle(bundle, await pinnedKey());
  } catch (err) {
    result = { ok: false, checks: [{ name: "bundle", ok: false, detail: err.message }], parsed: new Map() };
  }
  const failed = result.checks.find((c) => c.ok === false);
  const status = result.ok
    ? badge("verified", t.verifiedN(bundle.entries.length, bundle.checkpoint.tree_size))
    : badge("failed", `${failed.name}: ${failed.detail}`);
  const mark = (ok) => el("span", { class: ok ? "ok" : "bad" }, ok ? "✔" : ok === null ? "–" : "✘");
  const checkOf = (e) => result.checks.find((c) => c.name === `entry ${e.seq} (${e.role})`);
  const saved = el("p", { class: "small", role: "status", id: "download-status" });
  const button = el("button", { type: "button", class: "secondary", id: "download-bundle",
    onclick: async () => {
      try { saved.textContent = t.downloaded(await download(path, `evidence-${alert.id}.json`)); }
      catch (err) { saved.textContent = err.message; }
    } }, t.downloadBundle);
  const observed = bundle.entries.flatMap((e) => e.members.filter((m) => m.kind === "merkle" &&
    m.root_field === "observations_root").map((m) => [m, checkOf(e)]));
  fill(section, head, status,
    table("evidence-entries", t.evidence, t.evidenceCols, bundle.entries.map((e) => {
      const value = result.parsed.get(e.seq) || readable(e), check = checkOf(e);
      return el("tr", { "data-seq": e.seq },
        el("td", { class: "num" }, String(e.seq)), el("td", {}, e.role),
        el("td", {}, value?.kind || "—"), el("td", {}, value ? fmtTime(value.ts, ctx.lang) : "—"),
        el("td", {}, el("code", {}, summary(value?.payload))),
        el("td", { title: check?.detail || "" }, mark(check?.ok ?? null)));
    }), [0]),
    observed.length ? table("observations", t.observations, t.obsCols, observed.map(([m, c]) =>
      el("tr", {}, el("td", {}, m.item.at ? fmtTime(m.item.at, ctx.lang) : "—"),
        el("td", {}, [m.item.province, m.item.city, m.item.place].filter(Boolean).join(" ") || "—"),
        el("td", {}, el("code", {}, String(m.item.device || m.item.device_hash || "—").slice(0, 12))),
        el("td", {}, mark(c?.ok ?? null))))) : null,
    el("h3", {}, t.checks),
    el("ol", { id: "checks" }, result.checks.map((c) => el("li", {}, mark(c.ok), " ",
      el("strong", {}, c.name), ": ", c.detail))),
    bundle.anchors.length ? el("p", { class: "small" }, t.anchors(bundle.anchors.length)) : null,
    el("div", { class: "actions" }, button, saved));
}

/** What an entry's bytes say, for display even when its proof failed (the mark says so). */
function readable(entry) {
  try {
    return JSON.parse(new TextDecoder().decode(b64decode(entry.data)));
  } catch {
    return null;
  }
}

/** A line of what an entry says: the fields a compliance officer reads first. */
function summary(payload) {
  if (!payload) return "";
  const keys = ["alert", "from", "to", "case", "extra", "code", "codes_count", "shipment",
    "location", "reason", "kind", "score"];
  return keys.filter((k) => payload[k] != null)
    .map((k) => `${k}=${Array.isArray(payload[k]) ? payload[k].join(",") : payload[k]}`)
    .join(" · ").slice(0, 160);
}
