// The alerts list: filters in the URL (#/alerts?kind=…&region_id=…), newest first, paged by
// the API's cursor (`before` = the last alert of the previous page).
import { query, request } from "./api.js";
import { select, table } from "./dom.js";
import { el } from "../shared/dom.js";
import { fmtTime } from "./i18n.js";

const FILTERS = ["kind", "state", "strength", "region_id", "dealer_id", "gtin", "since", "until"];
const SIZES = ["10", "25", "50", "100"];
let trail = { key: "", cursors: [] };  // the `before` of each earlier page, for "previous"

export async function alertsView(main, ctx, params) {
  const t = ctx.t;
  document.title = `${t.nav.alerts} · ${t.title}`;
  const limit = Number(params.get("limit")) || 25;
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) || ""]));
  const key = JSON.stringify({ ...filters, limit });
  if (trail.key !== key) trail = { key, cursors: [] };
  const before = params.get("before") || "";
  const keep = keeper(main);
  let rows;
  try {
    rows = await request("/v1/compliance/alerts" + query({ ...filters, limit: limit + 1, before }));
  } catch (err) {
    if (err.status === 401) throw err;
    // A filter the API refuses (an empty date range…): say why, keep the form to fix it.
    keep(filterForm(ctx, filters, String(limit)), (form) => main.replaceChildren(
      el("h1", {}, t.nav.alerts), form,
      el("p", { class: "msg error", role: "alert", id: "alerts-error" }, err.message)));
    return;
  }
  const more = rows.length > limit;
  const alerts = rows.slice(0, limit);

  const form = filterForm(ctx, filters, String(limit));
  const go = (extra) => { location.hash = "#/alerts" + query({ ...filters, limit, ...extra }); };
  const pager = el("nav", { class: "actions", "aria-label": t.pages },
    el("button", { type: "button", class: "secondary", id: "prev", disabled: !before,
      onclick: () => go({ before: trail.cursors.pop() || "" }) }, t.prev),
    el("span", { id: "page" }, t.page(trail.cursors.length + 1)),
    el("button", { type: "button", class: "secondary", id: "next", disabled: !more,
      onclick: () => { trail.cursors.push(before); go({ before: alerts[alerts.length - 1].id }); } },
      t.next));
  const list = alerts.length ? table("alerts", t.alertsCaption(alerts.length), t.cols,
    alerts.map((a) => alertRow(a, ctx)), [4]) : el("p", { id: "alerts-empty" }, t.none);
  keep(form, () => main.replaceChildren(el("h1", {}, t.nav.alerts), form, list, pager));
}

/** What the user does in the filter form on screen while the list loads: `keep(form, draw)`
 *  draws the new form with the fields they changed meanwhile (where the new form offers the
 *  value) and with the focus in the field they went on to, so the list arriving takes neither. */
function keeper(main) {
  const shown = main.querySelector("#filters");
  const fields = shown ? [...shown.elements].filter((f) => f.name) : [];
  const start = fields.map((f) => f.value);
  const focusedAtStart = document.activeElement;
  return (form, draw) => {
    const changed = shown?.isConnected ? fields.filter((f, i) => f.value !== start[i]) : [];
    const active = document.activeElement;
    const focus = shown?.isConnected && fields.includes(active)
      && (active !== focusedAtStart || changed.includes(active)) ? active.name : null;
    draw(form);
    for (const { name, value } of changed) {
      const field = form.elements[name];
      if (field?.tagName === "SELECT" && ![...field.options].some((o) => o.value === value)) continue;
      if (field) field.value = value;
    }
    if (focus) form.elements[focus]?.focus();
  };
}

function filterForm(ctx, filters, limit) {
  const t = ctx.t, n = ctx.names;
  const any = [["", t.any]];
  const lang = ctx.lang;
  const fields = [
    select("kind", t.f.kind, [...any, ...Object.entries(t.kind)], filters.kind),
    select("state", t.f.state, [...any, ...Object.entries(t.state)], filters.state),
    select("strength", t.f.strength, [...any, ...Object.entries(t.strength)], filters.strength),
    select("region_id", t.f.region, [...any, ...n.regions.map((r) => [r.id, r.name])],
      filters.region_id),
    select("dealer_id", t.f.dealer, [...any, ...n.dealers
      .filter((d) => !filters.region_id || d.region_id === filters.region_id)
      .map((d) => [d.id, `${d.name} (${d.code})`])], filters.dealer_id),
    select("gtin", t.f.sku, [...any, ...[...n.products.values()].map((p) =>
      [p.gtin, `${lang === "zh" ? p.name_zh : p.name_en} · ${p.gtin}`])], filters.gtin),
    [el("label", { for: "since" }, t.f.since),
      el("input", { id: "since", name: "since", type: "date", value: filters.since })],
    [el("label", { for: "until" }, t.f.until),
      el("input", { id: "until", name: "until", type: "date", value: filters.until })],
    select("limit", t.f.limit, SIZES.map((s) => [s, s]), limit),
  ];
  const form = el("form", { class: "card", id: "filters", "aria-label": t.filters },
    el("div", { class: "filters" }, fields.map((f) => el("div", {}, f))),
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "primary" }, t.apply),
      el("a", { href: "#/alerts", id: "reset" }, t.reset)));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    location.hash = "#/alerts" + query(data);
  });
  return form;
}

function alertRow(a, ctx) {
  const t = ctx.t;
  const flow = a.to_region_id ? `${ctx.nameOf(a.region_id)} → ${ctx.nameOf(a.to_region_id)}`
    : ctx.nameOf(a.region_id);
  return el("tr", { "data-id": a.id },
    el("td", {}, el("a", { href: `#/alerts/${encodeURIComponent(a.id)}` },
      fmtTime(a.detected_at, ctx.lang))),
    el("td", {}, t.kind[a.kind] || a.kind),
    el("td", {}, t.strength[a.strength] || a.strength),
    el("td", {}, el("span", { class: `tag ${a.state}` }, t.state[a.state] || a.state)),
    el("td", { class: "num" }, String(a.score)),
    el("td", {}, ctx.nameOf(a.dealer_id)),
    el("td", {}, flow),
    el("td", {}, a.place_name || "—"),
    el("td", {}, ctx.nameOf(a.gtin)),
    el("td", {}, el("code", {}, a.code.split("/").pop())));
}
