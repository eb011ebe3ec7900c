// The console's two charts as inline SVG: diversion rate bars and the region flow matrix.
// Each mark carries its figure in data-* attributes and a <title>, so people (and tests)
// can read the exact numbers the API returned.
import { svg as node } from "../chart.js";

/** One row per key: the suspected rate (‰) as a bar, the confirmed rate as a darker inset. */
export function rateBars(rows, label, nameOf, t) {
  const shown = rows.slice(0, 25);
  const width = 640, rowH = 24, left = 170, right = 70;
  const height = shown.length * rowH + 30;
  const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, width, role: "img",
    "aria-label": label, id: "rates-chart", class: "chart" });
  svg.append(node("title", {}, label));
  const top = Math.max(1, ...shown.map((r) => r.suspected_permille));
  const x = (v) => (v / top) * (width - left - right);
  shown.forEach((r, i) => {
    const y = 6 + i * rowH, name = nameOf(r.key);
    const g = node("g", { class: "bar", "data-key": r.key, "data-suspected": r.suspected_permille,
      "data-confirmed": r.confirmed_permille, "data-shipped": r.shipped });
    g.append(node("title", {}, `${name}: ${r.suspected}/${r.shipped} ${t.suspected} ` +
      `(${r.suspected_permille}‰), ${r.confirmed} ${t.confirmed} (${r.confirmed_permille}‰)`));
    g.append(node("text", { x: left - 6, y: y + 15, "font-size": 12, "text-anchor": "end" },
      name.length > 22 ? `${name.slice(0, 21)}…` : name));
    g.append(node("rect", { x: left, y: y + 3, width: Math.max(1, x(r.suspected_permille)),
      height: 16, fill: "#c77c3a" }));
    if (r.confirmed_permille) {
      g.append(node("rect", { x: left, y: y + 7, width: x(r.confirmed_permille), height: 8,
        fill: "#5a1e0b" }));
    }
    g.append(node("text", { x: left + x(r.suspected_permille) + 6, y: y + 15, "font-size": 12 },
      `${r.suspected_permille}‰`));
    svg.append(g);
  });
  const legendY = height - 8;
  svg.append(node("rect", { x: left, y: legendY - 9, width: 12, height: 10, fill: "#c77c3a" }));
  svg.append(node("text", { x: left + 16, y: legendY, "font-size": 11 }, t.suspected));
  svg.append(node("rect", { x: left + 90, y: legendY - 9, width: 12, height: 10, fill: "#5a1e0b" }));
  svg.append(node("text", { x: left + 106, y: legendY, "font-size": 11 }, t.confirmed));
  return svg;
}

/** Rows: the diverting dealer's home region; columns: where the goods were found. */
export function flowMatrix(flows, label, nameOf) {
  const sources = [...new Set(flows.map((f) => f.from_region))].sort();
  const targets = [...new Set(flows.map((f) => f.to_region))].sort();
  const cell = 56, left = 130, top = 90;
  const width = left + targets.length * cell + 10, height = top + sources.length * cell + 10;
  const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, width: Math.min(width * 1.2, 900),
    role: "img", "aria-label": label, id: "flow-chart", class: "chart" });
  svg.append(node("title", {}, label));
  const most = Math.max(1, ...flows.map((f) => f.suspected));
  targets.forEach((to, j) => {
    const cx = left + j * cell + cell / 2;
    svg.append(node("text", { x: cx, y: top - 8, "font-size": 12,
      transform: `rotate(-35 ${cx} ${top - 8})` }, nameOf(to)));
  });
  sources.forEach((from, i) => {
    const y = top + i * cell;
    svg.append(node("text", { x: left - 8, y: y + cell / 2 + 4, "font-size": 12,
      "text-anchor": "end" }, nameOf(from)));
    targets.forEach((to, j) => {
      const f = flows.find((x) => x.from_region === from && x.to_region === to);
      const n = f ? f.suspected : 0;
      const shade = n ? 0.15 + 0.85 * (n / most) : 0;
      const g = node("g", { class: "cell", "data-from": from, "data-to": to, "data-suspected": n,
        "data-confirmed": f ? f.confirmed : 0 });
      g.append(node("title", {}, `${nameOf(from)} → ${nameOf(to)}: ${n}` +
        (f && f.confirmed ? ` (${f.confirmed} ✔)` : "")));
      g.append(node("rect", { x: left + j * cell + 1, y: y + 1, width: cell - 2, height: cell - 2,
        fill: n ? `rgba(164, 0, 29, ${shade.toFixed(2)})` : "#f1f1f1", stroke: "#ccc" }));
      g.append(node("text", { x: left + j * cell + cell / 2, y: y + cell / 2 + 5, "font-size": 14,
        "text-anchor": "middle", fill: shade > 0.55 ? "#fff" : "#1a1a1a" }, String(n)));
      svg.append(g);
    });
  });
  return svg;
}
