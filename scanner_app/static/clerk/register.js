// Registering a member at the counter (POST /v1/members): the phone number, the programme,
// and the real name and ID number when the card needs them (the rules say when); or adding
// the real name to an anonymous card later (PUT /v1/members/ID/real-name). Confirmed and sent
// once like every write of the app (operate.js's confirmation), then a receipt.
import { call } from "./api.js";
import { facts, field, yuan } from "./dom.js";
import { el } from "../shared/dom.js";
import { fmtTime } from "./i18n.js";
import { nextPosTxn } from "./pos.js";
import { receiptCard } from "./operate.js";
import { heading, problem } from "./ui.js";

/** Mainland mobile numbers as the server takes them: 11 digits, spaces, dashes or +86 aside. */
export const phoneDigits = (text) => text.replace(/[\s-]/g, "").replace(/^\+?86(?=\d{11}$)/, "");
const ID = /^\d{17}[\dX]$/;
/** What the confirmation shows of an ID number: the region and the last four. */
export const maskId = (id) => `${id.slice(0, 6)}********${id.slice(-4)}`;

/** The card rules (caps, when a real name is needed), read once per registration. */
export async function loadRules(st) {
  st.rules = (await call("/v1/stored-value/rules")).body;
}

export function registerForm(ctx, st) {
  const t = ctx.t, d = st.draft, r = st.rules;
  const phone = el("input", { type: "tel", inputmode: "tel", autocomplete: "off", required: true,
    value: d.phone ?? "" });
  const programme = el("select", {}, ["store", "dealer"].map((v) =>
    el("option", { value: v, selected: (d.programme || "store") === v }, t.reg.programmes[v])));
  const real = realNameFields(t, d, false);
  const form = el("form", { class: "card", novalidate: true }, heading(t.reg.title),
    st.error ? problem(t, st.error) : null, rulesNote(t, r),
    field("reg-phone", t.reg.phone, phone), field("reg-programme", t.reg.programme, programme),
    el("fieldset", {}, el("legend", {}, t.reg.realName), real.nodes));
  const { status, refuse } = refusals(form);
  form.append(status, el("div", { class: "actions" },
    el("button", { type: "submit", class: "primary" }, t.next),
    el("button", { type: "button", class: "secondary", onclick: () => {
      Object.assign(st, { step: "find", draft: {}, error: null });
      ctx.render(true);
    } }, t.cancel)));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    Object.assign(d, { phone: phone.value, programme: programme.value, name: real.name.value,
      idNumber: real.idNumber.value });
    const digits = phoneDigits(phone.value);
    const who = real.name.value.trim(), id = real.idNumber.value.trim().toUpperCase();
    if (!/^1\d{10}$/.test(digits)) return refuse(t.reg.badPhone, phone);
    const wrong = real.check();
    if (wrong) return refuse(...wrong);
    const json = { store_id: ctx.storeId, phone: digits, programme: programme.value };
    if (who) Object.assign(json, { name: who, id_number: id });
    const rows = [[t.card.phone, digits], [t.reg.programme, t.reg.programmes[programme.value]],
      [t.card.realName, who ? `${t.card.yes} · ${who} · ${maskId(id)}` : t.card.no]];
    if (r) rows.push([t.card.cap, yuan(who ? r.named_cap_fen : r.anonymous_cap_fen)]);
    st.pending = { json, rows, path: "/v1/members", kind: "member", posTxn: nextPosTxn() };
    st.step = "confirm";
    ctx.render(true);
  });
  return form;
}

/** Name and ID number fields, and a check of them before anything is sent: the refusal in
 *  words, or null. `required`: a named card needs both; registering may leave both empty. */
function realNameFields(t, d, required) {
  const name = el("input", { autocomplete: "off", value: d.name ?? "" });
  const idNumber = el("input", { autocomplete: "off", spellcheck: "false", maxlength: 18,
    value: d.idNumber ?? "" });
  const check = () => {
    const who = name.value.trim(), id = idNumber.value.trim().toUpperCase();
    if (Boolean(who) !== Boolean(id) || (required && !who)) return [t.reg.both, who ? idNumber : name];
    if (id && !ID.test(id)) return [t.reg.badId, idNumber];
    return null;
  };
  return { name, idNumber, check, nodes: [field("reg-name", t.reg.name, name),
    field("reg-id", t.reg.idNumber, idNumber, t.reg.idHint)] };
}

function rulesNote(t, r) {
  return r ? el("p", { class: "note", id: "register-rules" }, t.reg.rules(
    yuan(r.anonymous_cap_fen), yuan(r.named_cap_fen), yuan(r.real_name_purchase_fen))) : null;
}

/** A refusal next to the form, cleared as soon as the clerk changes something. */
function refusals(form) {
  const status = el("div", { role: "status" });
  form.addEventListener("input", (ev) => {
    status.replaceChildren();
    ev.target.removeAttribute("aria-invalid");
  });
  const refuse = (words, input) => {
    status.replaceChildren(el("p", { class: "problem", role: "alert" }, words));
    input.setAttribute("aria-invalid", "true");
    input.focus();
  };
  return { status, refuse };
}

/** An anonymous card becomes a named one: the higher cap, large top-ups allowed. */
export function realNameForm(ctx, st) {
  const t = ctx.t, d = st.draft, m = st.member;
  const real = realNameFields(t, d, true);
  const form = el("form", { class: "card", novalidate: true }, heading(t.reg.realNameTitle),
    st.error ? problem(t, st.error) : null, rulesNote(t, st.rules),
    facts([[t.card.phone, m.phone], [t.card.cap, yuan(m.balance.cap_fen)]]),
    real.nodes);
  const { status, refuse } = refusals(form);
  form.append(status, el("div", { class: "actions" },
    el("button", { type: "submit", class: "primary" }, t.next),
    el("button", { type: "button", class: "secondary", onclick: () => {
      Object.assign(st, { step: "card", draft: {}, error: null });
      ctx.render(true);
    } }, t.cancel)));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    Object.assign(d, { name: real.name.value, idNumber: real.idNumber.value });
    const wrong = real.check();
    if (wrong) return refuse(...wrong);
    const who = real.name.value.trim(), id = real.idNumber.value.trim().toUpperCase();
    const rows = [[t.card.phone, m.phone], [t.card.realName, `${who} · ${maskId(id)}`],
      [t.card.cap, st.rules ? `${yuan(m.balance.cap_fen)} → ${yuan(st.rules.named_cap_fen)}` : null]];
    st.pending = { json: { store_id: ctx.storeId, name: who, id_number: id }, rows, kind: "member",
      path: `/v1/members/${encodeURIComponent(m.member_id)}/real-name`, method: "PUT",
      posTxn: nextPosTxn() };
    st.step = "confirm";
    ctx.render(true);
  });
  return form;
}

export function memberReceipt(ctx, st) {
  const t = ctx.t, m = st.member, registered = st.op === "register";
  const rows = [
    [t.receipt.store, ctx.store ? `${ctx.store.name}（${ctx.store.code}）` : m.home_store_id],
    // The card's creation time; the answer to a real-name change carries no time of its own.
    [t.receipt.time, registered ? fmtTime(m.created_at, ctx.lang) : null],
    [t.receipt.op, t.ops[st.op]],
    [t.card.member, el("code", {}, m.member_id)],
    [t.card.phone, m.phone], [t.card.name, m.name],
    [t.card.realName, m.real_name ? t.card.yes : t.card.no],
    [t.reg.programme, t.reg.programmes[m.programme]],
    [t.card.cap, yuan(m.balance.cap_fen)],
    [t.card.total, yuan(m.balance.total_fen)],
    [t.receipt.pos, st.receipt.posTxn],
  ];
  return receiptCard(ctx, st, registered ? t.reg.receipt : t.reg.realNameReceipt, rows, t.reg.toCard);
}
