// Money and form helpers of the clerk app (no framework, no build step), on the shared
// element builder.
import { el } from "../shared/dom.js";

/** Integer fen as "¥1,234.56"; money never passes through a float. */
export function yuan(fen) {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  const whole = Math.floor(abs / 100).toLocaleString("en-US");
  return `${sign}¥${whole}.${String(abs % 100).padStart(2, "0")}`;
}

/** Fen as a plain amount to edit: 38800 → "388.00". */
export const plainYuan = (fen) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;

/** "1234.5" → 123450 fen; null for anything that is not a positive amount of yuan. */
export function parseFen(text) {
  const match = /^\s*(\d{1,10})(?:\.(\d{1,2}))?\s*$/.exec(text.replace(/[,，¥]/g, ""));
  if (!match) return null;
  const fen = Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
  return fen > 0 && Number.isSafeInteger(fen) ? fen : null;
}

/** A labelled form field: the label names the input for screen readers and for tests. */
export function field(id, label, input, hint) {
  input.id = id;
  if (hint) input.setAttribute("aria-describedby", `${id}-hint`);
  return el("div", { class: "field" }, el("label", { for: id }, label), input,
    hint ? el("p", { class: "small", id: `${id}-hint` }, hint) : null);
}

/** A definition list of [label, value] rows, skipping empty values. */
export function facts(rows, attrs = {}) {
  return el("dl", attrs, rows.filter(([, v]) => v != null && v !== "")
    .map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}
