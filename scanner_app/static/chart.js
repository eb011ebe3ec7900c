// Inline SVG charts without a library. `svg()` builds an SVG node (the console's charts use it
// too); `storageChart()` is the consumer page's storage conditions: one bar per storage leg
// spanning min–max temperature, a tick at the mean. Each leg is a <g> carrying its figures in
// data-* attributes and a <title>, so people (and tests) can read the exact numbers.
const NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and an optional text. */
export function svg(tag, attrs, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text != null) n.textContent = text;
  return n;
}

export function storageChart(legs, t) {
  const rows = legs.filter((l) => l.temperature_c);
  const width = 320, rowH = 26, left = 96, right = 12, height = rows.length * rowH + 24;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img",
    "aria-label": t.chartLabel, id: "storage-chart" });
  chart.append(svg("title", {}, t.chartLabel));
  if (!rows.length) return chart;
  const values = rows.flatMap((l) => [Number(l.temperature_c.min), Number(l.temperature_c.max)]);
  const lo = Math.floor(Math.min(...values) - 1), hi = Math.ceil(Math.max(...values) + 1);
  const x = (v) => left + ((v - lo) / (hi - lo)) * (width - left - right);
  rows.forEach((leg, i) => {
    const y = 8 + i * rowH, temp = leg.temperature_c, name = leg.region || leg.zone;
    const [min, max, mean] = [temp.min, temp.max, temp.mean].map(Number);
    const g = svg("g", { class: leg.excursions.length ? "leg excursion" : "leg",
      "data-zone": leg.zone, "data-min": temp.min, "data-max": temp.max, "data-mean": temp.mean,
      "data-excursions": leg.excursions.length });
    g.append(svg("title", {}, `${name}: ${temp.min}–${temp.max} °C, ${t.mean} ${temp.mean} °C` +
      (leg.excursions.length ? ` · ⚠ ${t.excursionsN(leg.excursions.length)}` : "")));
    g.append(svg("text", { x: 0, y: y + 13, "font-size": 11 }, name));
    g.append(svg("rect", { class: "range", x: x(min), y: y + 3, width: Math.max(2, x(max) - x(min)),
      height: 12, rx: 3, fill: leg.excursions.length ? "#b35c00" : "#8c5a3c" }));
    g.append(svg("line", { class: "mean", x1: x(mean), x2: x(mean), y1: y, y2: y + 18,
      stroke: "#111" }));
    chart.append(g);
  });
  chart.append(svg("text", { x: left, y: height - 2, "font-size": 10, fill: "#555" }, `${lo} °C`));
  chart.append(svg("text", { x: width - right, y: height - 2, "font-size": 10, fill: "#555",
    "text-anchor": "end" }, `${hi} °C`));
  return chart;
}
