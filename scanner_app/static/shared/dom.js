// DOM pieces the three apps share (consumer page, clerk app, compliance console): elements
// built without innerHTML, so every text the server sends is set as text, and the verifier
// key pinned in this browser.

/** An element with attributes (`class`, `on*` handlers, `value`, the rest as attributes) and
 *  children; null, undefined and false attributes and children are skipped. */
export function el(tag, attrs = {}, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "value") node.value = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat(Infinity)) if (kid != null && kid !== false) node.append(kid);
  return node;
}

/** Replace a node's children, skipping the absent ones (null, false). */
export function fill(node, ...kids) {
  node.replaceChildren(...kids.flat(Infinity).filter((k) => k != null && k !== false));
}

/** The fields of `root` that have an id, as the user left them: `into(drawn)` puts what they
 *  hold when it is called (so typing during a fetch counts) into the fields of the same ids
 *  drawn since, and the focus back into the one that had it when `typed` was called. For
 *  redraws that must change nothing the user entered: a fetch's answer arriving, the
 *  language switched. A date input holds "" while a date is half typed: nothing to carry. */
export function typed(root) {
  const fields = [...root.querySelectorAll("input[id], select[id], textarea[id]")]
    .filter((f) => f.type !== "file");
  const focused = fields.includes(document.activeElement) ? document.activeElement.id : null;
  return {
    into(drawn) {
      for (const old of fields) {
        const field = drawn.querySelector(`#${CSS.escape(old.id)}`);
        if (!field || field === old) continue;
        if (old.type === "checkbox" || old.type === "radio") field.checked = old.checked;
        else if (old.type === "date" && !old.value) continue;
        else if (field.tagName !== "SELECT"
          || [...field.options].some((o) => o.value === old.value)) field.value = old.value;
      }
      if (focused) drawn.querySelector(`#${CSS.escape(focused)}`)?.focus();
    },
  };
}

const PIN = "jy_verifier_key";

/** The log's verifier key pinned in this browser, fetched once from the server and kept in
 *  localStorage: every page of this origin checks signatures against the same key, and an
 *  answer signed under another key fails. */
export async function pinnedKey() {
  let key = localStorage.getItem(PIN);
  if (!key) {
    const response = await fetch("/v1/checkpoint/key");
    if (!response.ok) throw new Error(`verifier key: HTTP ${response.status}`);
    key = (await response.text()).trim();
    localStorage.setItem(PIN, key);
  }
  return key;
}
