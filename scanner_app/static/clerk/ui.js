// Pieces every clerk view uses: the error box and the view context's shape.
import { ApiError } from "./api.js";
import { el } from "../shared/dom.js";

/** A server refusal or a network failure in plain words, the server's own message below. */
export function problem(t, err) {
  const network = !(err instanceof ApiError);
  const words = network ? t.error("network") : t.error(err.code);
  const detail = network ? String(err.message || err) : err.message;
  return el("div", { class: "problem", role: "alert" }, el("strong", {}, words),
    detail && detail !== words ? el("p", { class: "small" }, `${t.detail}: ${detail}`) : null);
}

/** A heading that takes focus when its view opens, so keyboard and screen readers follow. */
export function heading(text, level = "h1") {
  return el(level, { tabindex: "-1", class: "view-title" }, text);
}
