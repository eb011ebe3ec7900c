// The compliance console: log in, then alerts (#/alerts), one alert (#/alerts/ID) and the
// diversion reports (#/reports). Hash routes keep it a set of static files under /app/console/.
import { request, session } from "./api.js";
import { el, typed } from "../shared/dom.js";
import { STRINGS } from "./i18n.js";
import { alertsView } from "./alerts.js";
import { alertView } from "./alert.js";
import { reportsView } from "./reports.js";

const AUDITORS = ["compliance_officer", "hq_admin"];
const ctx = {
  lang: localStorage.getItem("jy_lang") || "zh",
  get t() { return STRINGS[this.lang]; },
  names: null,
  /** A person's name for a party id, GTIN or region ('-': none). */
  nameOf(key) {
    if (key == null || key === "") return "—";
    if (key === "-") return this.t.noRegion;
    const n = this.names;
    const product = n?.products.get(key);
    if (product) return this.lang === "zh" ? product.name_zh : product.name_en;
    return n?.parties.get(key) || key;
  },
};

async function loadAll(path) {
  const out = [];
  for (let after = null; ;) {
    const page = await request(path + (after ? `&after=${encodeURIComponent(after)}` : ""));
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1].code;
  }
}

async function loadNames() {
  const [regions, dealers, products] = await Promise.all([
    loadAll("/v1/regions?limit=1000"), loadAll("/v1/dealers?limit=1000"), request("/v1/products")]);
  ctx.names = {
    regions, dealers, products: new Map(products.map((p) => [p.gtin, p])),
    parties: new Map([...regions, ...dealers].map((p) => [p.id, p.name])),
  };
}

function header() {
  const t = ctx.t, me = session.get();
  document.documentElement.lang = ctx.lang === "zh" ? "zh-CN" : "en";
  document.getElementById("brand").textContent = t.brand;
  const lang = document.getElementById("lang");
  lang.textContent = t.other;
  lang.setAttribute("lang", ctx.lang === "zh" ? "en" : "zh-CN");
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t.title);
  const route = location.hash.startsWith("#/reports") ? "reports" : "alerts";
  nav.replaceChildren(...(me ? ["alerts", "reports"].map((r) =>
    el("a", { href: `#/${r}`, "aria-current": r === route ? "page" : null }, t.nav[r])) : []));
  const who = document.getElementById("who");
  who.replaceChildren(...(me ? [`${me.username} · ${me.role}`, " ",
    el("button", { type: "button", class: "link", id: "logout", onclick: logout }, t.logout)] : []));
}

function logout() {
  session.clear();
  location.hash = "#/alerts";
  route();
}

function loginView(main, error) {
  const t = ctx.t;
  document.title = `${t.login} · ${t.title}`;
  const message = el("p", { id: "login-error", class: error ? "msg error" : null, role: "alert" }, error);
  const form = el("form", { class: "card" },
    el("p", { class: "small" }, t.loginHint),
    el("label", { for: "username" }, t.username),
    el("input", { id: "username", name: "username", autocomplete: "username", required: true }),
    el("label", { for: "password" }, t.password),
    el("input", { id: "password", name: "password", type: "password",
      autocomplete: "current-password", required: true }),
    el("button", { type: "submit", class: "primary" }, t.loginBtn), message);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const username = form.username.value.trim();
    try {
      const token = await request("/v1/auth/token", { method: "POST",
        form: { grant_type: "password", username, password: form.password.value } });
      if (!AUDITORS.includes(token.role)) {
        message.className = "msg error";
        message.textContent = t.wrongRole(token.role);
        return;
      }
      session.set({ ...token, username });
      await route();
    } catch (err) {
      message.className = "msg error";
      message.textContent = err.message;
    }
  });
  main.replaceChildren(el("section", { class: "login" }, el("h1", {}, t.title), form));
  form.username.focus();
}

let current = 0;
async function route() {
  const mine = ++current;
  const main = document.getElementById("main");
  delete main.dataset.shown;
  header();
  if (!session.get()) { loginView(main); return; }
  try {
    if (!ctx.names) await loadNames();
    if (mine !== current) return;
    const [path, q] = location.hash.slice(1).split("?");
    const params = new URLSearchParams(q || "");
    const detail = /^\/alerts\/([^/]+)$/.exec(path || "");
    if (detail) await alertView(main, ctx, decodeURIComponent(detail[1]));
    else if (path === "/reports") await reportsView(main, ctx, params);
    else await alertsView(main, ctx, params);
    // Which route the page now shows (a later navigation may have started meanwhile).
    if (mine === current) main.dataset.shown = location.hash;
  } catch (err) {
    if (!session.get()) { loginView(main, err.message); return; }
    main.replaceChildren(el("p", { class: "msg error", role: "alert" }, err.message));
  }
}

document.getElementById("lang").addEventListener("click", async () => {
  ctx.lang = ctx.lang === "zh" ? "en" : "zh";
  localStorage.setItem("jy_lang", ctx.lang);
  const main = document.getElementById("main");
  const entered = typed(main);  // the same view, in the other language, as the user left it
  const at = location.hash;
  await route();
  if (location.hash === at) entered.into(main);
});
// After a navigation, focus the new content (screen readers announce it; Tab starts there),
// unless the user went on into the alerts filters while it loaded (alerts.js keeps them there)
// or is signed out (the login form puts the focus in its first field).
window.addEventListener("hashchange", async () => {
  await route();
  if (!session.get()) return;
  if (document.getElementById("filters")?.contains(document.activeElement)) return;
  document.getElementById("main").focus({ preventScroll: true });
});
window.addEventListener("jy-logout", () => { ctx.names = null; });
route();
