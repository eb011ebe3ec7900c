// The day's Z-report of the clerk's store: operations, the accounts they moved, the drawer.
import { call } from "./api.js";
import { field, yuan } from "./dom.js";
import { el, typed } from "../shared/dom.js";
import { today } from "./pos.js";
import { heading, problem } from "./ui.js";

const st = { day: null, report: null, error: null, loading: false, storeId: null };

async function load(ctx) {
  st.loading = true;
  try {
    const path = `/v1/stored-value/stores/${encodeURIComponent(ctx.storeId)}/z-report?day=${st.day}`;
    st.report = (await call(path)).body;
    st.error = null;
  } catch (err) {
    st.report = null;
    st.error = err;
  }
  st.loading = false;
  // Drawn again with the report: a day being typed meanwhile stays, and keeps its focus.
  const main = document.getElementById("main");
  const entered = typed(main);
  ctx.render(false);
  entered.into(main);
}

function table(caption, cols, rows, id) {
  return el("div", { class: "scroll" }, el("table", { id }, el("caption", {}, caption),
    el("thead", {}, el("tr", {}, cols.map((c, i) => el("th", { scope: "col", class: i ? "num" : null }, c)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((v, i) =>
      i ? el("td", { class: "num" }, v) : el("th", { scope: "row" }, v)))))));
}

/** An account code in words: the store's own accounts by name, members' by a short id. */
function accountName(t, code) {
  const parts = code.split(":");
  const words = t.z.account;
  if (parts[0] === "liability") return `${words.member} ${parts[2].slice(0, 11)}… ${words[parts[3]] ?? parts[3]}`;
  if (parts[2] === "clearing") return `${words.clearing} · ${t.methods[parts[3]] ?? parts[3]}`;
  return words[parts[2]] ?? code;
}

export function zReportView(ctx) {
  const t = ctx.t;
  if (st.storeId !== ctx.storeId) Object.assign(st, { storeId: ctx.storeId, report: null, day: null });
  if (!st.day) st.day = today();
  if (ctx.entered) st.report = null;  // opened again: show the day as it is now
  const day = el("input", { type: "date", value: st.day, required: true });
  const form = el("form", { class: "inline no-print" }, field("z-day", t.z.day, day),
    el("button", { type: "submit", class: "primary" }, t.z.show));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (day.value) { st.day = day.value; load(ctx); }
  });
  const out = el("section", { class: "card", id: "z-report" }, heading(t.z.title), form);
  if (st.error) out.append(problem(t, st.error));
  const r = st.report;
  if (!r || r.business_day !== st.day) {
    if (!st.loading && !st.error) load(ctx);
    return out;
  }
  out.append(el("p", { class: "small" }, `${ctx.store?.name ?? r.store_id} · ${t.z.day} ${r.business_day}`));
  if (!r.operations.length) {
    out.append(el("p", { id: "z-empty" }, t.z.none));
    return out;
  }
  out.append(table(t.z.operations, t.z.cols, r.operations.map((o) =>
    [t.ops[o.operation] || o.operation, String(o.count), yuan(o.principal_fen), yuan(o.bonus_fen)]),
  "z-operations"));
  out.append(table(t.z.clearing, [t.receipt.method, t.z.acols[3]],
    Object.entries(r.clearing_net_fen).map(([m, fen]) => [t.methods[m] || m, yuan(fen)]), "z-clearing"));
  out.append(table(t.z.accounts, t.z.acols, r.accounts.map((a) =>
    [accountName(t, a.account), yuan(a.debit_fen), yuan(a.credit_fen), yuan(a.net_fen)]),
  "z-accounts"));
  out.append(el("p", { class: r.balanced ? "ok" : "problem", id: "z-balanced", role: "status" },
    `${r.balanced ? "✔ " + t.z.balanced : "✘ " + t.z.unbalanced} · ${t.z.debit} ${yuan(r.debit_fen)} · ${t.z.credit} ${yuan(r.credit_fen)}`));
  out.append(el("div", { class: "actions no-print" },
    el("button", { type: "button", class: "primary", onclick: () => window.print() }, t.z.print)));
  return out;
}
