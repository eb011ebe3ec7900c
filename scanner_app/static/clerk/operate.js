// One counter operation: the form, the confirmation (with its POS number), then the receipt.
// The POS number is fixed when the confirmation opens and reused by every retry of it, so a
// double click or a retry after a dropped connection books the operation once.
import { call } from "./api.js";
import { facts, field, parseFen, yuan } from "./dom.js";
import { el } from "../shared/dom.js";
import { fmtTime } from "./i18n.js";
import { idempotencyKey, nextPosTxn, validPosTxn } from "./pos.js";
import { applicable } from "./promotions.js";
import { heading, problem } from "./ui.js";

/** The means of payment the API takes, in the order the clerk sees them. */
export const METHODS = ["cash", "wechat", "alipay", "debit_card", "bank_transfer"];
const PATHS = { top_up: "top-ups", spend: "spends", refund: "refunds", cash_refund: "cash-refunds",
  void: "voids" };

/** The form of `st.op`; on "next" it builds `st.pending` and moves to the confirmation. */
export function operationForm(ctx, st) {
  const t = ctx.t;
  const draft = st.draft;
  const amount = el("input", { inputmode: "decimal", autocomplete: "off", required: true,
    value: draft.amount ?? "" });
  const label = { top_up: t.topUp.amount, spend: t.spend.amount, refund: t.refund.amount }[st.op];
  const parts = [heading(t.ops[st.op]), st.error ? problem(t, st.error) : null,
    field("amount", label, amount)];
  const note = el("p", { id: "promotion-note", class: "note", role: "status" });
  const method = el("select", {}, METHODS.map((m) =>
    el("option", { value: m, selected: (draft.method || "wechat") === m }, t.methods[m])));
  const promotion = el("select", {});
  const refreshPromotions = () => {
    const fen = parseFen(amount.value) || 0;
    const fits = applicable(st.promotions, fen);
    const keep = draft.promotionTouched ? draft.promotion : fits[0]?.promotion_id || "";
    promotion.replaceChildren(el("option", { value: "" }, t.topUp.none), ...fits.map((p) =>
      el("option", { value: p.promotion_id, selected: p.promotion_id === keep }, p.name)));
    if (!fits.some((p) => p.promotion_id === keep)) promotion.value = "";
    const chosen = fits.find((p) => p.promotion_id === promotion.value);
    note.replaceChildren(chosen ? promotionWords(t, chosen)
      : el("span", {}, t.topUp.noneApplies, waiting(t, st.promotions, fen)));
  };
  if (st.op === "top_up") {
    parts.push(field("method", t.topUp.method, method));
    parts.push(field("promotion", t.topUp.promotion, promotion), note);
    amount.addEventListener("input", refreshPromotions);
    promotion.addEventListener("change", () => {
      draft.promotionTouched = true;
      draft.promotion = promotion.value;
      refreshPromotions();
    });
    refreshPromotions();
  }
  if (st.op === "refund") {
    parts.push(el("p", { class: "small" }, t.refund.left(yuan(st.spend.refundable))));
  }
  const status = el("div", { role: "status" });
  const form = el("form", { class: "card", novalidate: true }, parts, status,
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "primary" }, t.next),
      el("button", { type: "button", class: "secondary", onclick: () => cancel(ctx, st) }, t.cancel)));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const fen = parseFen(amount.value);
    draft.amount = amount.value;
    draft.method = method.value;
    if (fen == null) {
      status.replaceChildren(el("p", { class: "problem", role: "alert" }, t.badAmount));
      amount.setAttribute("aria-invalid", "true");
      amount.focus();
      return;
    }
    const member = st.member;
    const base = { store_id: ctx.storeId };
    let json, promo = null;
    if (st.op === "top_up") {
      promo = st.promotions.find((p) => p.promotion_id === promotion.value) || null;
      json = { ...base, member_id: member.member_id, paid_fen: fen, payment_method: method.value,
        promotion_id: promo?.promotion_id ?? null };
    } else if (st.op === "spend") {
      json = { ...base, member_id: member.member_id, amount_fen: fen };
    } else {
      json = { ...base, spend_id: st.spend.journal_id, amount_fen: fen };
    }
    st.pending = { json, fen, promo, posTxn: nextPosTxn(), error: null, busy: false };
    st.step = "confirm";
    ctx.render(true);
  });
  return form;
}

function cancel(ctx, st) {
  st.step = st.op === "refund" ? "refunds" : "card";
  st.draft = {};
  ctx.render(true);
}

function promotionWords(t, p) {
  return el("span", {}, el("strong", {}, `${t.topUp.applies}：${p.name}`), " · ",
    t.topUp.bonus(yuan(p.bonus_fen)), p.gift ? ` · ${t.topUp.gift(p.gift)}` : "");
}

function waiting(t, promotions, fen) {
  const next = promotions.filter((p) => p.min_paid_fen > fen).sort((a, b) => a.min_paid_fen - b.min_paid_fen)[0];
  return next ? `（${next.name}：${t.topUp.needs(yuan(next.min_paid_fen))}）` : "";
}

/** What the balance would be after the operation, as the confirmation shows it. */
function expectedAfter(st) {
  const now = st.member.balance.total_fen, p = st.pending;
  if (st.op === "top_up") return now + p.fen + (p.promo?.bonus_fen ?? 0);
  if (st.op === "cash_refund") return 0;  // the principal is paid out, the bonus lapses
  if (st.op === "void") return now - p.top.principal_fen - p.top.bonus_fen;
  return st.op === "spend" ? now - p.fen : now + p.fen;
}

/** What the confirmation of a card operation lists. */
function operationRows(ctx, st) {
  const t = ctx.t, p = st.pending, m = st.member;
  const rows = [[t.card.phone, m.phone], [t.receipt.amount, yuan(p.fen)]];
  if (st.op === "top_up") {
    rows.push([t.receipt.method, t.methods[p.json.payment_method]]);
    rows.push([t.receipt.promotion, p.promo ? promotionWords(t, p.promo) : t.topUp.none]);
  }
  if (st.op === "refund") rows.push([t.refund.spent, `${yuan(st.spend.amount)} · ${fmtTime(st.spend.created_at, ctx.lang)}`]);
  if (st.op === "cash_refund") {
    rows.push([t.cash.method, t.methods[p.json.payment_method]]);
    rows.push([t.cash.lapses, yuan(m.balance.bonus_fen)]);
  }
  if (st.op === "void") {
    rows.push([t.voids.toppedUp, `${fmtTime(p.top.created_at, ctx.lang)} · ${p.top.pos_txn}`]);
    rows.push([t.voids.paidBack, t.methods[p.top.payment_method] ?? p.top.payment_method]);
    rows.push([t.voids.bonusBack, yuan(p.top.bonus_fen)]);
    if (p.top.gift) rows.push([t.voids.giftBack, `${p.top.gift.name} ×${p.top.gift.qty}`]);
  }
  const after = expectedAfter(st);
  // Below zero: a spend the balance cannot cover, or a top-up already partly used up.
  const short = st.op === "void" ? t.voids.used : t.error("insufficient_balance");
  rows.push([t.balanceBefore, yuan(m.balance.total_fen)],
    [t.balanceAfter, after >= 0 ? yuan(after) : `— (${short})`]);
  return rows;
}

/**
 * Confirm `st.pending` and send it once. A pending write may bring its own `rows`, `path`
 * and `method` (registering a member does); card operations are described from `st.op`.
 */
export function confirmation(ctx, st) {
  const t = ctx.t, p = st.pending;
  const rows = p.rows ?? operationRows(ctx, st);
  const pos = el("input", { value: p.posTxn, autocomplete: "off", spellcheck: "false",
    readonly: p.sent || null });
  // Refused for want of a real name (a large top-up, or the anonymous cap): offer to add it.
  const needsName = p.error && ["real_name_required", "cap_exceeded"].includes(p.error.code)
    && st.member && !st.member.real_name;
  const status = el("div", {}, p.error ? problem(t, p.error) : null,
    needsName ? el("button", { type: "button", class: "secondary", id: "add-real-name",
      onclick: () => ctx.begin("real_name") }, t.ops.real_name) : null);
  const confirm = el("button", { type: "submit", class: "primary", disabled: p.busy },
    p.error && !p.error.status ? t.retry : t.confirm);
  const form = el("form", { class: "card confirm", "aria-busy": p.busy ? "true" : "false" },
    heading(t.confirmTitle(t.ops[st.op])), facts(rows, { id: "confirm-facts" }),
    field("pos-txn", t.pos, pos), status,
    el("div", { class: "actions" }, confirm,
      el("button", { type: "button", class: "secondary", disabled: p.busy || p.sent,
        onclick: () => {
          st.step = st.op === "void" ? "voids" : "form";  // a void's "form" is the list
          st.pending = null;
          ctx.render(true);
        } }, t.back)));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (p.busy) return;  // a second click while the first is on its way
    if (!validPosTxn(pos.value)) {
      status.replaceChildren(el("p", { class: "problem", role: "alert" }, t.badPos));
      return;
    }
    p.posTxn = pos.value;
    p.busy = true;
    confirm.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      const result = await call(p.path ?? `/v1/stored-value/${PATHS[st.op]}`, {
        method: p.method ?? "POST", json: p.json, idempotencyKey: idempotencyKey(ctx.storeId, p.posTxn) });
      if (p.kind === "member") {
        const { member_token: _token, ...member } = result.body;  // a credential: not kept here
        st.member = member;
      } else {
        st.member = { ...st.member, balance: result.body.balance };
      }
      st.receipt = { ...result, promo: p.promo, top: p.top, kind: p.kind ?? "operation",
        posTxn: p.posTxn };
      st.pending = null;
      st.step = "receipt";
    } catch (err) {
      p.error = err;
      // A dropped connection may have booked it: only a retry with the same number is safe.
      p.sent = !err.status;
    } finally {
      p.busy = false;
    }
    ctx.render(true);
  });
  return form;
}

export function receipt(ctx, st) {
  const t = ctx.t, r = st.receipt.body;
  // What changed hands: paid in, spent or refunded; a cash refund pays out the principal only.
  const amount = { top_up: r.principal_fen, cash_refund: -r.principal_fen, void: -r.principal_fen }[r.operation]
    ?? Math.abs(r.principal_fen + r.bonus_fen);
  const signed = (fen) => (fen > 0 ? `+${yuan(fen)}` : yuan(fen));
  const gift = r.gift ?? st.receipt.top?.gift;  // a void takes back the voided top-up's gift
  const rows = [
    [t.receipt.store, ctx.store ? `${ctx.store.name}（${ctx.store.code}）` : r.store_id],
    [t.receipt.time, fmtTime(r.created_at, ctx.lang)],
    [t.receipt.op, t.ops[r.operation]],
    [t.receipt.amount, yuan(amount)],
    [t.receipt.method, r.payment_method ? t.methods[r.payment_method] : null],
    [t.receipt.promotion, st.receipt.promo?.name ?? (r.promotion_id || null)],
    [r.operation === "void" ? t.voids.giftBack : t.receipt.gift, gift ? `${gift.name} ×${gift.qty}` : null],
    [t.cash.lapses, r.operation === "cash_refund" ? yuan(-r.bonus_fen) : null],
    [t.voids.voided, r.operation === "void" ? el("code", {}, r.refers_to) : null],
    [t.receipt.principal, signed(r.principal_fen)],
    [t.receipt.bonus, signed(r.bonus_fen)],
    [t.receipt.balance, yuan(r.balance.total_fen)],
    [t.card.phone, st.member.phone],
    [t.receipt.pos, r.pos_txn],
    [t.receipt.journal, el("code", {}, r.journal_id)],
  ];
  return receiptCard(ctx, st, t.receipt.title, rows, t.receipt.done);
}

/** A printable receipt: its title, the replay note, the facts, print and back to the card. */
export function receiptCard(ctx, st, title, rows, done) {
  const t = ctx.t;
  return el("section", { class: "card receipt", id: "receipt", "aria-labelledby": "receipt-h" },
    el("h1", { id: "receipt-h", tabindex: "-1", class: "view-title" }, title),
    st.receipt.replayed ? el("p", { class: "note", role: "status" }, t.receipt.replayed) : null,
    facts(rows, { class: "receipt-facts" }),
    el("div", { class: "actions no-print" },
      el("button", { type: "button", class: "primary", onclick: () => window.print() }, t.receipt.print),
      el("button", { type: "button", class: "secondary",
        onclick: () => { st.step = "card"; st.receipt = null; ctx.render(true); } }, done)));
}
