// Receiving a shipment at the store: scan every case that arrived (camera or typed), confirm,
// then see what the receipt recorded: missing, extra and wrongly delivered cases.
import { call } from "./api.js";
import { facts, field } from "./dom.js";
import { el, typed } from "../shared/dom.js";
import { fmtTime } from "./i18n.js";
import { heading, problem } from "./ui.js";
import { startScanner } from "../scan.js";

const st = { step: "list", shipments: null, shipment: null, scanned: [], result: null,
  error: null, busy: false, storeId: null };

/** The serial a scanned text names (a Digital Link's /21/ part, or a bare serial). */
export function serialOf(text) {
  const link = /\/21\/([^/?#\s]+)/.exec(text);
  return decodeURIComponent(link ? link[1] : text.trim()).toUpperCase();
}

async function loadList(ctx) {
  try {
    const { body } = await call("/v1/shipments?state=dispatched&limit=500");
    st.shipments = body.filter((s) => s.to_party_id === ctx.storeId);
    st.error = null;
  } catch (err) {
    st.shipments = [];
    st.error = err;
  }
  ctx.render(false);
}

async function receivedAlready(s) {
  try {
    const { body } = await call(`/v1/shipments/${encodeURIComponent(s.id)}`);
    return body.state === "received" ? body : null;
  } catch {
    return null;
  }
}

const expected = (s) => s.lines.reduce((n, l) => n + l.cases, 0);

export function receivingView(ctx) {
  if (st.storeId !== ctx.storeId || (ctx.entered && st.step === "list")) {
    Object.assign(st, { step: "list", shipments: null, storeId: ctx.storeId, error: null });
  }
  switch (st.step) {
    case "scan": return scanView(ctx);
    case "confirm": return confirmView(ctx);
    case "result": return resultView(ctx);
    default: return listView(ctx);
  }
}

function listView(ctx) {
  const t = ctx.t;
  const out = el("section", { class: "card" }, heading(t.recv.title));
  if (st.error) out.append(problem(t, st.error));
  if (st.shipments === null) { loadList(ctx); return out; }
  out.append(el("h2", {}, t.recv.pick));
  if (!st.shipments.length) { out.append(el("p", {}, t.recv.none)); return out; }
  out.append(el("ul", { class: "shipments" }, st.shipments.map((s) => el("li", {},
    facts([["#", el("code", {}, s.id)], [t.recv.dispatched, fmtTime(s.dispatched_at, ctx.lang)],
      [t.recv.lines, s.lines.map((l) => `${l.gtin} × ${l.cases}`).join("，")]]),
    el("button", { type: "button", class: "primary", "aria-label": `${t.recv.open} ${s.id}`,
      onclick: () => {
        Object.assign(st, { step: "scan", shipment: s, scanned: [], error: null, result: null,
          already: false });
        ctx.render(true);
      } }, t.recv.open)))));
  return out;
}

/** Add a case scanned by the camera, or typed (`typedIn`: the field is then emptied for the
 *  next); a code being typed by hand meanwhile stays in its field when the camera adds one. */
function add(ctx, text, status, typedIn = false) {
  const t = ctx.t;
  const serial = serialOf(text);
  if (!serial) return;
  if (st.scanned.some((c) => c.serial === serial)) {
    status.textContent = `${serial}: ${t.recv.dup}`;
    return;
  }
  st.scanned.push({ serial, text: text.trim() });
  st.error = null;
  redraw(ctx, !typedIn);
  document.getElementById("case-code")?.focus();
}

/** Draw the scan view again; `keepTyping`: with the code being typed by hand kept. */
function redraw(ctx, keepTyping) {
  const main = document.getElementById("main");
  const entered = keepTyping && main ? typed(main) : null;
  ctx.render(false);
  if (main) entered?.into(main);
}

function lines(t, s, received) {
  return el("table", { id: "recv-lines" }, el("caption", {}, t.recv.lines),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t.recv.gtin),
      el("th", { scope: "col", class: "num" }, t.recv.cases),
      received ? el("th", { scope: "col", class: "num" }, t.recv.received) : null)),
    el("tbody", {}, s.lines.map((l) => el("tr", {}, el("th", { scope: "row" }, l.gtin),
      el("td", { class: "num" }, String(l.cases)),
      received ? el("td", { class: "num" }, String(l.received)) : null))));
}

function scanView(ctx) {
  const t = ctx.t, s = st.shipment;
  const status = el("p", { class: "small", role: "status", id: "recv-status" });
  const camera = el("div", { class: "camera" });
  const scan = el("button", { type: "button", class: "primary", id: "scan-case" }, t.recv.scan);
  scan.addEventListener("click", async () => {
    scan.disabled = true;
    status.textContent = t.recv.scanning;
    try {
      add(ctx, await startScanner(camera), status);
    } catch (err) {
      status.textContent = `${t.find.cameraFailed} (${err.message || err.name})`;
    } finally {
      scan.disabled = false;
    }
  });
  const code = el("input", { autocomplete: "off", spellcheck: "false",
    placeholder: "https://…/21/… · 7K3M9Q2XW8D4HP6R" });
  const manual = el("form", { class: "inline" }, field("case-code", t.recv.manual, code),
    el("button", { type: "submit", class: "primary" }, t.recv.add));
  manual.addEventListener("submit", (ev) => {
    ev.preventDefault();
    add(ctx, code.value, status, true);
  });
  const list = el("ol", { class: "scanned", id: "scanned", "aria-live": "polite" },
    st.scanned.map((c, i) => el("li", {}, el("code", {}, c.serial),
      el("button", { type: "button", class: "secondary small-button", "aria-label": `${t.recv.remove} ${c.serial}`,
        onclick: () => { st.scanned.splice(i, 1); st.error = null; redraw(ctx, true); } },
        t.recv.remove))));
  const submit = el("button", { type: "button", class: "primary", id: "recv-submit",
    onclick: () => {
      if (!st.scanned.length) { status.textContent = t.recv.noneScanned; return; }
      st.step = "confirm";
      ctx.render(true);
    } }, t.recv.submit);
  return el("section", { class: "card" }, heading(`${t.recv.title} · ${s.id}`),
    st.error ? problem(t, st.error) : null, lines(t, s, false),
    el("p", { class: "count", id: "recv-count" }, t.recv.scanned(st.scanned.length, expected(s))),
    scan, status, camera, manual, list,
    el("div", { class: "actions" }, submit, el("button", { type: "button", class: "secondary",
      onclick: () => { st.step = "list"; st.shipments = null; ctx.render(true); } }, t.recv.back)));
}

function confirmView(ctx) {
  const t = ctx.t, s = st.shipment;
  const confirm = el("button", { type: "button", class: "primary", disabled: st.busy },
    t.recv.confirmButton);
  confirm.addEventListener("click", async () => {
    if (st.busy) return;
    st.busy = true;
    confirm.disabled = true;
    try {
      const { body } = await call(`/v1/shipments/${encodeURIComponent(s.id)}/receive`,
        { method: "POST", json: { codes: st.scanned.map((c) => c.text) } });
      st.result = body;
      st.step = "result";
    } catch (err) {
      // A refusal records nothing (the receipt is all or nothing). After a dropped answer, or
      // when the shipment is no longer dispatched, its own state tells what happened.
      const received = !err.status || err.code === "shipment_state" ? await receivedAlready(s) : null;
      if (received) {
        Object.assign(st, { result: received, step: "result", error: null, already: true });
      } else {
        st.error = err;
        st.step = "scan";
      }
    } finally {
      st.busy = false;
    }
    ctx.render(true);
  });
  return el("section", { class: "card confirm" }, heading(t.confirmTitle(t.recv.title)),
    el("p", {}, t.recv.confirm(st.scanned.length, expected(s))),
    el("div", { class: "actions" }, confirm, el("button", { type: "button", class: "secondary",
      onclick: () => { st.step = "scan"; ctx.render(true); } }, t.back)));
}

function resultView(ctx) {
  const t = ctx.t, r = st.result;
  const group = (id, title, serials, cls) => (serials.length
    ? el("section", { class: `discrepancy ${cls}`, id }, el("h2", {}, `${title}：${serials.length}`),
      el("ul", {}, serials.map((x) => el("li", {}, el("code", {}, x)))))
    : null);
  const wrong = new Set(r.wrong_destination || []);
  const extra = r.extra.filter((x) => !wrong.has(x));
  const clean = !r.missing.length && !r.extra.length;
  return el("section", { class: "card", id: "recv-result" }, heading(t.recv.result),
    st.already ? el("p", { class: "note", role: "status" }, t.recv.already) : null,
    facts([["#", el("code", {}, r.id)], [t.recv.dispatched, fmtTime(r.dispatched_at, ctx.lang)],
      [t.receipt.time, fmtTime(r.received_at, ctx.lang)]]),
    lines(t, r, true),
    clean ? el("p", { class: "ok", role: "status" }, `✔ ${t.recv.ok}`) : null,
    group("recv-missing", t.recv.missing, r.missing, "missing"),
    group("recv-wrong", t.recv.wrong, [...wrong], "wrong"),
    group("recv-extra", t.recv.extra, extra, "extra"),
    el("div", { class: "actions no-print" },
      el("button", { type: "button", class: "primary", onclick: () => window.print() }, t.receipt.print),
      el("button", { type: "button", class: "secondary",
        onclick: () => { st.step = "list"; st.shipments = null; ctx.render(true); } }, t.recv.back)));
}
