// The console's tables and selects, on the shared element builder.
import { el } from "../shared/dom.js";

/** A table with a caption and column headers, wrapped so it scrolls sideways on a tablet;
 *  the columns listed in `numeric` (indexes) are right-aligned. */
export function table(id, caption, heads, rows, numeric = []) {
  return el("div", { class: "scroll", role: "region", "aria-label": caption, tabindex: 0 },
    el("table", { id },
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, heads.map((h, i) =>
        el("th", { scope: "col", class: numeric.includes(i) ? "num" : null }, h)))),
      el("tbody", {}, rows)));
}

export function select(id, label, options, value) {
  return [el("label", { for: id }, label),
    el("select", { id, name: id }, options.map(([v, text]) =>
      el("option", { value: v, selected: v === value }, text)))];
}
