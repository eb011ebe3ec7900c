// A small inline SVG: one bar per storage leg spanning min–max temperature, a tick at the mean.
const NS = "http://www.w3.org/2000/svg";

function node(tag, attrs, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text != null) n.textContent = text;
  return n;
}

export function storageChart(legs, t) {
  const rows = legs.filter((l) => l.temperature_c);
  const width = 320, rowH = 26, left = 96, right = 12, height = rows.length * rowH + 24;
  const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img",
    "aria-label": t.chartLabel, id: "storage-chart" });
  svg.append(node("title", {}, t.chartLabel));
  if (!rows.length) return svg;
  const values = rows.flatMap((l) => [Number(l.temperature_c.min), Number(l.temperature_c.max)]);
  const lo = Math.floor(Math.min(...values) - 1), hi = Math.ceil(Math.max(...values) + 1);
  const x = (v) => left + ((v - lo) / (hi - lo)) * (width - left - right);
  rows.forEach((leg, i) => {
    const y = 8 + i * rowH, temp = leg.temperature_c;
    const [min, max, mean] = [temp.min, temp.max, temp.mean].map(Number);
    svg.append(node("text", { x: 0, y: y + 13, "font-size": 11 }, leg.region || leg.zone));
    svg.append(node("rect", { x: x(min), y: y + 3, width: Math.max(2, x(max) - x(min)), height: 12,
      rx: 3, fill: leg.excursions.length ? "#b35c00" : "#8c5a3c" }));
    svg.append(node("line", { x1: x(mean), x2: x(mean), y1: y, y2: y + 18, stroke: "#111" }));
    svg.append(node("title", {}, `${leg.region || leg.zone}: ${min}–${max} °C, ${mean}`));
  });
  svg.append(node("text", { x: left, y: height - 2, "font-size": 10, fill: "#555" }, `${lo} °C`));
  svg.append(node("text", { x: width - right, y: height - 2, "font-size": 10, fill: "#555",
    "text-anchor": "end" }, `${hi} °C`));
  return svg;
}
