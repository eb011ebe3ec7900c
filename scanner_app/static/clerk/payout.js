// Money going back to the member: the cash refund of the whole balance when they leave (the
// proportional rule: the unspent principal is paid out, the bonus lapses) and the same-day
// void of a top-up nothing was taken from. Both end in operate.js's confirmation and receipt.
import { facts, field, yuan } from "./dom.js";
import { el } from "../shared/dom.js";
import { fmtTime } from "./i18n.js";
import { METHODS } from "./operate.js";
import { nextPosTxn } from "./pos.js";
import { heading, problem } from "./ui.js";

const back = (ctx, st) => el("button", { type: "button", class: "secondary",
  onclick: () => { st.step = "card"; st.error = null; ctx.render(true); } }, ctx.t.cancel);

/** remaining × paid ÷ (paid + bonus), in exact integers: what the rule pays out. The card's
 *  principal : bonus split is its paid : bonus split, since spends draw on both pro rata. */
export function proportionalRefund(principalFen, bonusFen) {
  const total = BigInt(principalFen) + BigInt(bonusFen);
  return total === 0n ? 0 : Number((total * BigInt(principalFen)) / total);
}

export function cashRefundForm(ctx, st) {
  const t = ctx.t, b = st.member.balance;
  const payout = proportionalRefund(b.principal_fen, b.bonus_fen);
  const method = el("select", {}, METHODS.map((m) =>
    el("option", { value: m, selected: (st.draft.method || "cash") === m }, t.methods[m])));
  const computation = el("div", { class: "note", id: "cash-computation", role: "status" },
    el("p", {}, t.cash.rule),
    el("p", {}, el("strong", {}, t.cash.formula(yuan(b.total_fen), yuan(b.principal_fen),
      yuan(b.bonus_fen), yuan(payout)))),
    facts([[t.cash.pays, el("strong", { id: "cash-payout" }, yuan(payout))],
      [t.cash.lapses, el("span", { id: "cash-lapses" }, yuan(b.bonus_fen))]]));
  if (payout !== b.cash_refundable_fen) {  // the server decides; say so if the page disagrees
    computation.append(el("p", { class: "small" }, t.cash.server(yuan(b.cash_refundable_fen))));
  }
  const form = el("form", { class: "card", novalidate: true }, heading(t.cash.title),
    st.error ? problem(t, st.error) : null,
    b.total_fen === 0 ? el("p", { role: "status" }, t.cash.nothing) : [computation,
      field("cash-method", t.cash.method, method)],
    el("div", { class: "actions" },
      b.total_fen === 0 ? null : el("button", { type: "submit", class: "primary" }, t.next),
      back(ctx, st)));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    st.draft.method = method.value;
    st.pending = { json: { store_id: ctx.storeId, member_id: st.member.member_id,
      payment_method: method.value }, fen: b.cash_refundable_fen, posTxn: nextPosTxn() };
    st.step = "confirm";
    ctx.render(true);
  });
  return form;
}

/** Today's top-ups at this store that no void has undone yet, newest first; `used` when the
 *  history shows the card spent from or paid out since (the server decides, and will refuse). */
export function voidable(lines, storeId, day) {
  const debits = lines.filter((l) => l.operation === "spend" || l.operation === "cash_refund")
    .map((l) => Date.parse(l.created_at));
  return lines.filter((l) => l.operation === "top_up" && l.store_id === storeId
    && l.business_day === day && !l.voided_by)
    .map((l) => ({ ...l, used: debits.some((at) => at > Date.parse(l.created_at)) }));
}

export function voidsView(ctx, st) {
  const t = ctx.t;
  const rows = st.topUps.map((l) => el("li", { class: "spend" },
    el("span", {}, `${t.voids.paid} ${yuan(l.principal_fen)}` +
      (l.bonus_fen ? ` + ${t.card.bonus} ${yuan(l.bonus_fen)}` : "") +
      ` · ${fmtTime(l.created_at, ctx.lang)} · ${l.pos_txn}`),
    l.used ? el("span", { class: "small" }, `⚠ ${t.voids.used}`) : null,
    el("button", { type: "button", class: "primary",
      "aria-label": `${t.voids.pick} ${yuan(l.principal_fen)} ${l.pos_txn}`,
      onclick: () => {
        st.pending = { json: { store_id: ctx.storeId, top_up_id: l.journal_id },
          fen: l.principal_fen, top: l, posTxn: nextPosTxn() };
        st.step = "confirm";
        ctx.render(true);
      } }, t.voids.pick)));
  return el("section", { class: "card" }, heading(t.voids.title),
    el("p", { class: "small" }, t.voids.hint),
    st.error ? problem(t, st.error) : null,
    rows.length ? el("ul", { class: "spends", id: "top-ups" }, rows) : el("p", {}, t.voids.none),
    back(ctx, st));
}
