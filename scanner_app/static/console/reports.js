// Diversion rates (per region, dealer, SKU or month) and the region flow matrix, as charts
// and as tables of the same figures, with the API's CSV exports.
import { download, query, request } from "./api.js";
import { select, table } from "./dom.js";
import { el } from "../shared/dom.js";
import { flowMatrix, rateBars } from "./charts.js";

const GROUPS = ["region", "dealer", "sku", "month"];

export async function reportsView(main, ctx, params) {
  const t = ctx.t;
  document.title = `${t.nav.reports} · ${t.title}`;
  const by = GROUPS.includes(params.get("by")) ? params.get("by") : "region";
  const [rates, flows] = await Promise.all([
    request("/v1/compliance/reports/diversion-rates" + query({ by })),
    request("/v1/compliance/reports/flows"),
  ]);
  const nameOf = (key) => (by === "month" ? key : ctx.nameOf(key));
  const status = el("p", { role: "status", id: "export-status", class: "small" });
  const exportButton = (id, label, path, name) => el("button", { type: "button",
    class: "secondary", id, onclick: async () => {
      try { status.textContent = t.downloaded(await download(path, name)); }
      catch (err) { status.textContent = err.message; }
    } }, label);
  const picker = el("form", { class: "actions", id: "rates-by" },
    select("by", t.by, GROUPS.map((g) => [g, t.byOpt[g]]), by));
  picker.by.addEventListener("change", () => { location.hash = "#/reports" + query({ by: picker.by.value }); });
  picker.addEventListener("submit", (ev) => ev.preventDefault());

  main.replaceChildren(
    el("h1", {}, t.nav.reports),
    el("section", { "aria-labelledby": "rates-h" },
      el("h2", { id: "rates-h" }, `${t.rates} · ${t.byOpt[by]}`), picker,
      rates.length ? rateBars(rates, t.chartRates(t.byOpt[by]), nameOf, t)
        : el("p", {}, t.noData),
      table("rates", t.ratesCaption, t.rateCols, rates.map((r) => el("tr", { "data-key": r.key },
        el("th", { scope: "row" }, nameOf(r.key)),
        ...[r.shipped, r.suspected, r.confirmed, r.suspected_permille, r.confirmed_permille]
          .map((v) => el("td", { class: "num" }, String(v))))), [1, 2, 3, 4, 5])),
    el("section", { "aria-labelledby": "flows-h" },
      el("h2", { id: "flows-h" }, t.flows),
      flows.length ? flowMatrix(flows, t.flowsCaption, (k) => ctx.nameOf(k)) : el("p", {}, t.noData),
      table("flows", t.flowsCaption, t.flowCols, flows.map((f) => el("tr", {},
        el("td", {}, ctx.nameOf(f.from_region)), el("td", {}, ctx.nameOf(f.to_region)),
        el("td", { class: "num" }, String(f.suspected)),
        el("td", { class: "num" }, String(f.confirmed)))), [2, 3])),
    el("section", { "aria-labelledby": "exports-h" },
      el("h2", { id: "exports-h" }, t.exports),
      el("div", { class: "actions" },
        exportButton("csv-rates", `${t.csvRates} · ${t.byOpt[by]}`,
          "/v1/compliance/reports/diversion-rates" + query({ by, format: "csv" }),
          `diversion-rates-${by}.csv`),
        exportButton("csv-flows", t.csvFlows, "/v1/compliance/reports/flows?format=csv",
          "diversion-flows.csv")),
      status));
}
