// The consumer scan page: renders the resolver's answer embedded in the page, verdict first,
// and checks every proof in this browser (verify.js) before showing the badge.
import { VerificationError, verifyLookup } from "./verify.js";
import { STRINGS, fmtTime, eventName } from "./consumer-i18n.js";
import { storageChart } from "./chart.js";
import { startScanner } from "./scan.js";
import { el, pinnedKey, typed } from "./shared/dom.js";

const lookup = JSON.parse(document.getElementById("lookup")?.textContent || "null");
let lang = localStorage.getItem("jy_lang") || "zh";
let badge = { state: "checking", detail: "" };

function dl(t, rows) {
  return el("dl", {}, rows.filter(([, v]) => v != null && v !== "")
    .map(([k, v]) => [el("dt", {}, t[k] || k), el("dd", {}, String(v))]));
}

/** Draw the page again (the proofs checked, the language switched), keeping what the user was
 * typing into the bottle-link field and its focus: a redraw must not take their input away. */
function render() {
  const main = document.getElementById("main");
  const entered = typed(main);
  draw();
  entered.into(main);
}

function draw() {
  const t = STRINGS[lang];
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = `${t.title} · 酒源 Jiuyuan`;
  document.getElementById("lang").textContent = t.other;
  document.getElementById("lang").setAttribute("lang", lang === "zh" ? "en" : "zh-CN");
  const main = document.getElementById("main");
  main.replaceChildren();
  if (!lookup) { main.append(el("p", {}, t.noLookup)); main.append(scanSection(t)); return; }
  if (lookup.error) {
    // Not a code of ours (a malformed link, an unknown product or lot): say so, and offer
    // to scan another; the server's own words below, for whoever reports it.
    main.append(el("div", { class: "verdict unknown", role: "alert", id: "verdict" },
      t.problem[lookup.error.code] || t.problem.other));
    main.append(el("p", { class: "small", id: "problem-detail" }, lookup.error.message));
    main.append(scanSection(t));
    return;
  }
  const v = lookup.verdict, p = lookup.product;
  // A link without a serial (a lot's or a product's) vouches for no bottle: said as such,
  // not as a code that is not ours.
  const label = v.status === "unknown" && !location.pathname.includes("/21/")
    ? t.verdict.noSerial : t.verdict[v.status];
  main.append(el("div", { class: `verdict ${v.status}`, role: "status", id: "verdict" }, label));
  if (v.reasons.length) main.append(el("ul", { id: "reasons" }, v.reasons.map((r) => el("li", {}, r))));
  main.append(el("div", { class: `badge ${badge.state}`, id: "badge", role: "status" },
    t.badge[badge.state], badge.detail ? el("div", { class: "small" }, badge.detail) : null));
  main.append(el("h1", {}, lang === "zh" ? p.name_zh : p.name_en));
  main.append(dl(t.f, [["gtin", p.gtin], ["aroma", lang === "zh" ? p.aroma_zh : p.aroma],
    ["abv", p.abv], ["volume", `${p.volume_ml} ml`],
    ["serial", lookup.code?.serial], ["lot", lookup.batch?.lot], ["line", lookup.batch?.line],
    ["bottled", lookup.batch?.bottled_on], ["batchStatus", t.batchStates[lookup.batch?.status] ?? lookup.batch?.status]]));
  if (lookup.blend) {
    const b = lookup.blend;
    main.append(el("h2", {}, t.blend));
    main.append(dl(t.f, [["blendNo", b.blend_no], ["blender", b.blender], ["blended", b.blended_on]]));
    main.append(el("table", {}, el("caption", { class: "small" }, t.baseLiquors),
      el("tr", {}, t.baseCols.map((c) => el("th", { scope: "col" }, c))),
      b.base_liquors.map((l) => el("tr", {}, el("td", {}, l.lot), el("td", {}, String(l.vintage)),
        el("td", {}, l.distillery), el("td", {}, `${(l.share_bp / 100).toFixed(1)}%`)))));
  }
  if (lookup.storage.length) {
    main.append(el("h2", {}, t.storage));
    main.append(storageChart(lookup.storage, t));
    main.append(storageTable(lookup.storage, t));
    for (const leg of lookup.storage) {
      for (const x of leg.excursions) {
        main.append(el("p", { class: "small" }, `⚠ ${leg.region || leg.zone} ${fmtTime(x.hour, lang)}: ` +
          `${t.metric[x.metric]} ${t.dir[x.direction]} ${x.limit} (${t.peak} ${x.peak})`));
      }
    }
  }
  if (lookup.custody.length) {
    main.append(el("h2", {}, t.journey));
    main.append(el("ol", { class: "journey", id: "journey" }, lookup.custody.map((s) =>
      el("li", {}, el("strong", {}, eventName(s.event, lang)), " · ", s.region || "—",
        el("div", { class: "small" }, fmtTime(s.at, lang))))));
  }
  if (lookup.scans) {
    main.append(el("h2", {}, t.scans));
    main.append(dl(t.f, [["scanCount", lookup.scans.count],
      ["firstScan", lookup.scans.first_scan_at ? fmtTime(lookup.scans.first_scan_at, lang) : "—"]]));
  }
  const anchor = lookup.entries.find((e) => e.anchor)?.anchor;
  main.append(el("h2", {}, t.proofs));
  main.append(dl(t.f, [["treeSize", lookup.checkpoint?.tree_size], ["entries", lookup.entries.length],
    ["anchor", anchor ? `${t.chain} ${anchor.chain_id} · ${t.block} ${anchor.block_number ?? "—"}` : t.noAnchor]]));
  if (anchor?.tx_hash) main.append(el("p", { class: "small" }, t.tx, " ", el("code", { id: "anchor-tx" }, anchor.tx_hash)));
  main.append(scanSection(t));
}

/** The chart's figures as a table: the same numbers for screen readers and for reading. */
function storageTable(legs, t) {
  return el("table", { id: "storage-table", class: "small" },
    el("caption", {}, t.storageTable),
    el("tr", {}, t.storageCols.map((c) => el("th", { scope: "col" }, c))),
    legs.map((l) => el("tr", { "data-zone": l.zone, class: l.excursions.length ? "excursion" : null,
      title: `${l.name} · ${fmtTime(l.since, lang)} – ${l.until ? fmtTime(l.until, lang) : "…"}` },
      el("th", { scope: "row" }, l.region || l.zone),
      el("td", {}, String(l.readings)),
      el("td", {}, l.temperature_c?.min ?? "—"), el("td", {}, l.temperature_c?.max ?? "—"),
      el("td", {}, l.temperature_c?.mean ?? "—"), el("td", {}, l.humidity_rh?.mean ?? "—"),
      el("td", {}, l.excursions.length ? `⚠ ${l.excursions.length}` : "0"))));
}

function scanSection(t) {
  const box = el("section", { class: "scan", "aria-labelledby": "scan-h" });
  box.append(el("h2", { id: "scan-h" }, t.scanAnother));
  const camera = el("button", { type: "button", class: "primary", id: "camera" }, t.openCamera);
  const status = el("p", { class: "small", id: "scan-status", role: "status" });
  const input = el("input", { id: "manual", name: "code", autocomplete: "off",
    placeholder: "https://…/01/…/10/…/21/…" });
  const form = el("form", {}, el("label", { for: "manual" }, t.manual), input,
    el("button", { type: "submit", class: "primary" }, t.go));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const target = codePath(input.value);
    if (target) location.assign(target); else status.textContent = t.badCode;
  });
  camera.addEventListener("click", async () => {
    status.textContent = t.cameraStarting;
    try {
      const text = await startScanner(box);
      const target = codePath(text);
      if (target) { status.textContent = t.found; location.assign(target); }
      else status.textContent = t.badCode;
    } catch (err) {
      status.textContent = `${t.cameraFailed} (${err.message || err.name})`;
    }
  });
  box.append(camera, status, form);
  return box;
}

/** The local path of a Digital Link (any resolver host keeps the same path), or null. */
export function codePath(text) {
  const match = /(?:^|\/)(01\/\d{14}(?:\/[0-9A-Za-z]+\/[^\s?#]+)*)(\?[^\s#]*)?\s*$/.exec(text.trim());
  return match ? `/${match[1]}` : null;
}

async function verify() {
  const t = STRINGS[lang];
  if (!lookup?.checkpoint || !lookup.entries.length) { badge = { state: "none", detail: "" }; return; }
  try {
    const key = await pinnedKey();
    if (lookup.checkpoint.verifier_key.trim() !== key) throw new VerificationError(t.keyChanged);
    const { checked, pending } = await verifyLookup(lookup, key);
    // Nothing proven yet (entries awaiting a checkpoint) is not "verified".
    badge = checked ? { state: "verified", detail: t.checkedN(checked, pending) }
      : { state: "none", detail: "" };
  } catch (err) {
    // A proof that does not hold is a failure; a key that could not be fetched (no network,
    // a server error) says nothing about the bottle, and is not shown as one.
    badge = err instanceof VerificationError ? { state: "failed", detail: err.message }
      : { state: "unavailable", detail: "" };
  }
}

document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("jy_lang", lang);
  render();
});
render();
verify().then(render);
