// The counter: find a member (member QR by camera or typed, or phone), their card, and the
// operations on it (operate.js). The view keeps its state here across redraws.
import { call } from "./api.js";
import { facts, field, plainYuan, yuan } from "./dom.js";
import { el } from "../shared/dom.js";
import { fmtTime } from "./i18n.js";
import { confirmation, operationForm, receipt } from "./operate.js";
import { cashRefundForm, voidable, voidsView } from "./payout.js";
import { today } from "./pos.js";
import { loadRules, memberReceipt, realNameForm, registerForm } from "./register.js";
import { heading, problem } from "./ui.js";
import { startScanner } from "../scan.js";

const st = { step: "find", member: null, op: null, draft: {}, pending: null, receipt: null,
  promotions: [], spends: [], spend: null, topUps: [], rules: null, error: null, storeId: null,
  sought: {} };  // sought: what the clerk looked for, { qr } or { phone }, kept after a miss
const FORMS = { register: registerForm, real_name: realNameForm, cash_refund: cashRefundForm };

export function memberView(app) {
  if (st.storeId !== app.storeId) {  // another login: forget the last clerk's member
    Object.assign(st, { step: "find", member: null, error: null, storeId: app.storeId,
      sought: {} });
  }
  // The app's context, plus `begin(op)` for a view that leads on to another operation.
  const ctx = Object.create(app, { begin: { value: (op) => begin(app, op) } });
  switch (st.step) {
    case "card": return cardView(ctx);
    case "form": return (FORMS[st.op] ?? operationForm)(ctx, st);
    case "confirm": return confirmation(ctx, st);
    case "receipt": return (st.receipt.kind === "member" ? memberReceipt : receipt)(ctx, st);
    case "refunds": return refundsView(ctx);
    case "voids": return voidsView(ctx, st);
    default: return findView(ctx);
  }
}

async function lookup(ctx, body) {
  st.error = null;
  st.sought = body;
  try {
    const { body: member } = await call("/v1/members/lookup", { method: "POST",
      json: { store_id: ctx.storeId, ...body } });
    st.member = member;
    st.step = "card";
    st.sought = {};
  } catch (err) {
    st.error = err;
  }
  // A miss keeps what was looked for in its field, selected, to correct or type over (the
  // problem above it is announced as an alert); a find opens the card at its heading.
  ctx.render(!st.error);
  if (st.error) {
    const used = document.getElementById("qr" in body ? "member-qr" : "member-phone");
    used?.focus();
    used?.select();
  }
}

function findView(ctx) {
  const t = ctx.t;
  const qr = el("input", { autocomplete: "off", spellcheck: "false", placeholder: "mq.…" });
  const phone = el("input", { type: "tel", inputmode: "tel", autocomplete: "off",
    placeholder: "138 0000 0000" });
  qr.value = st.sought.qr ?? "";
  phone.value = st.sought.phone ?? "";
  const status = el("p", { class: "small", role: "status", id: "scan-status" });
  const camera = el("section", { class: "camera", "aria-label": t.find.scan });
  const scan = el("button", { type: "button", class: "primary", id: "scan-member" }, t.find.scan);
  scan.addEventListener("click", async () => {
    status.textContent = t.find.scanning;
    scan.disabled = true;
    try {
      const text = await startScanner(camera);
      await lookup(ctx, { qr: text.trim() });
    } catch (err) {
      status.textContent = `${t.find.cameraFailed} (${err.message || err.name})`;
      scan.disabled = false;
    }
  });
  const byQr = el("form", { class: "inline" }, field("member-qr", t.find.qr, qr),
    el("button", { type: "submit", class: "primary" }, t.find.byQr));
  byQr.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (qr.value.trim()) lookup(ctx, { qr: qr.value.trim() });
  });
  const byPhone = el("form", { class: "inline" }, field("member-phone", t.find.phone, phone),
    el("button", { type: "submit", class: "primary" }, t.find.byPhone));
  byPhone.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (phone.value.trim()) lookup(ctx, { phone: phone.value.trim() });
  });
  const register = el("button", { type: "button", class: "secondary", id: "op-register",
    onclick: () => begin(ctx, "register") }, t.ops.register);
  return el("section", { class: "card" }, heading(t.find.title),
    st.error ? problem(t, st.error) : null, scan, status, camera, byQr, byPhone,
    el("div", { class: "actions" }, register));
}

async function begin(ctx, op) {
  st.op = op;
  st.draft = {};
  st.error = null;
  if (op === "top_up") {
    try {
      st.promotions = (await call(`/v1/stored-value/promotions?owner_id=${encodeURIComponent(ctx.storeId)}`)).body;
    } catch (err) {
      st.promotions = [];
      st.error = err;
    }
  }
  if (op === "register" || op === "real_name") {
    try {
      await loadRules(st);
    } catch (err) {
      st.rules = null;  // the form still works; the server applies the rules anyway
      st.error = err;
    }
  }
  if (op === "void") {
    try {
      const { body } = await call(`/v1/members/${encodeURIComponent(st.member.member_id)}/history?limit=100`);
      st.topUps = voidable(body.lines, ctx.storeId, today());
      st.step = "voids";
    } catch (err) {
      st.error = err;
    }
    ctx.render(true);
    return;
  }
  if (op === "refund") {
    try {
      const { body } = await call(`/v1/members/${encodeURIComponent(st.member.member_id)}/history?limit=100`);
      st.spends = body.lines.filter((l) => l.operation === "spend" && l.store_id === ctx.storeId)
        .map((l) => {
          const amount = -(l.principal_fen + l.bonus_fen);
          return { ...l, amount, refundable: amount - l.refunded_fen };
        })
        .filter((l) => l.refundable > 0);
      st.step = "refunds";
    } catch (err) {
      st.error = err;
    }
    ctx.render(true);
    return;
  }
  st.step = "form";
  ctx.render(true);
}

function balanceFacts(t, m) {
  return facts([
    [t.card.total, el("strong", { id: "balance-total" }, yuan(m.balance.total_fen))],
    [t.card.principal, el("span", { id: "balance-principal" }, yuan(m.balance.principal_fen))],
    [t.card.bonus, el("span", { id: "balance-bonus" }, yuan(m.balance.bonus_fen))],
    [t.card.cashRefundable, yuan(m.balance.cash_refundable_fen)],
    [t.card.cap, yuan(m.balance.cap_fen)],
  ], { class: "balance", id: "balance" });
}

function cardView(ctx) {
  const t = ctx.t, m = st.member;
  const button = (op) => el("button", { type: "button", class: "primary big", id: `op-${op}`,
    onclick: () => begin(ctx, op) }, t.ops[op]);
  return el("section", { class: "card", id: "member-card" }, heading(t.card.title),
    st.error ? problem(t, st.error) : null,
    facts([[t.card.phone, m.phone], [t.card.name, m.name],
      [t.card.realName, m.real_name ? t.card.yes : t.card.no],
      [t.card.member, el("code", {}, m.member_id)]]),
    balanceFacts(t, m),
    el("div", { class: "actions ops" }, button("top_up"), button("spend"), button("refund")),
    el("div", { class: "actions ops" }, button("void"), button("cash_refund"),
      m.real_name ? null : button("real_name")),
    el("button", { type: "button", class: "secondary", onclick: () => {
      Object.assign(st, { step: "find", member: null, error: null });
      ctx.render(true);
    } }, t.card.another));
}

function refundsView(ctx) {
  const t = ctx.t;
  const rows = st.spends.map((s) => el("li", { class: "spend" },
    el("span", {}, `${t.refund.spent} ${yuan(s.amount)} · ${fmtTime(s.created_at, ctx.lang)} · ${s.pos_txn}`),
    el("span", { class: "small" }, t.refund.left(yuan(s.refundable))),
    el("button", { type: "button", class: "primary", "aria-label": `${t.refund.pick} ${yuan(s.amount)} ${s.pos_txn}`,
      onclick: () => {
        st.spend = s;
        st.draft = { amount: plainYuan(s.refundable) };
        st.step = "form";
        ctx.render(true);
      } }, t.refund.pick)));
  return el("section", { class: "card" }, heading(t.refund.title),
    rows.length ? el("ul", { class: "spends" }, rows) : el("p", {}, t.refund.none),
    el("button", { type: "button", class: "secondary",
      onclick: () => { st.step = "card"; ctx.render(true); } }, t.cancel));
}
