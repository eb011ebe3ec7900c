// The clerk app: login with the people accounts (POST /v1/auth/token), then the counter
// (members, top-up, spend, refund), receiving shipments and the day's Z-report.
import { call, session, setUnauthorizedHandler } from "./api.js";
import { field } from "./dom.js";
import { el, typed } from "../shared/dom.js";
import { STRINGS } from "./i18n.js";
import { problem, heading } from "./ui.js";
import { memberView } from "./member.js";
import { receivingView } from "./receiving.js";
import { zReportView } from "./zreport.js";

const VIEWS = { member: memberView, receive: receivingView, zreport: zReportView };
const state = { lang: localStorage.getItem("jy_lang") || "zh", me: null, store: null, notice: null,
  shown: null, entered: false };

const ctx = {
  get t() { return STRINGS[state.lang]; },
  get lang() { return state.lang; },
  get storeId() { return state.me?.scope; },
  get store() { return state.store; },
  /** True while drawing a view that was not the one on screen before. */
  get entered() { return state.entered; },
  /** Redraw the current view (after its own state changed); focus its heading if asked. */
  render(focus = false) { render(focus); },
};

/** The context view `name` is drawn with: a redraw it asks for when a fetch of its own
 *  finishes waits while another view is on screen, instead of drawing that one again over
 *  what the clerk is typing there; the view draws from its state when opened again. */
function viewCtx(name) {
  return Object.create(ctx, { render: { value: (focus = false) => {
    if (state.shown === name) render(focus);
  } } });
}

function route() {
  const name = location.hash.replace(/^#\/?/, "");
  return VIEWS[name] ? name : "member";
}

function nav(t) {
  const current = route();
  const links = Object.keys(VIEWS).map((name) => el("a", {
    href: `#${name}`, "aria-current": name === current ? "page" : null,
  }, t.nav[name]));
  const out = el("button", { type: "button", class: "link-dark", onclick: logout }, t.nav.logout);
  return [...links, out];
}

function loginView(t) {
  const user = el("input", { name: "username", autocomplete: "username", required: true });
  const password = el("input", { name: "password", type: "password",
    autocomplete: "current-password", required: true });
  const status = el("div", { id: "login-status" });
  if (state.notice) status.append(el("p", { class: "problem", role: "alert" }, state.notice));
  const form = el("form", { class: "card narrow" }, heading(t.login.title),
    field("username", t.login.user, user), field("password", t.login.password, password),
    el("button", { type: "submit", class: "primary" }, t.login.submit), status);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    status.replaceChildren();
    try {
      const { body } = await call("/v1/auth/token", { method: "POST",
        form: { username: user.value, password: password.value, grant_type: "password" } });
      session.token = body.access_token;
      state.notice = null;
      await start();
    } catch (err) {
      session.token = null;
      status.replaceChildren(problem(ctx.t, err));
    }
  });
  return form;
}

function render(focus = true) {
  const t = ctx.t;
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = `${t.app} · 酒源 Jiuyuan`;
  document.getElementById("app-name").textContent = t.app;
  const lang = document.getElementById("lang");
  lang.textContent = t.other;
  lang.setAttribute("lang", state.lang === "zh" ? "en" : "zh-CN");
  const main = document.getElementById("main");
  const menu = document.getElementById("nav");
  menu.setAttribute("aria-label", state.lang === "zh" ? "主菜单" : "Main menu");
  document.getElementById("store").textContent = state.store ? state.store.name : "";
  if (!state.me) {
    menu.hidden = true;
    main.replaceChildren(loginView(t));
  } else {
    menu.hidden = false;
    menu.replaceChildren(...nav(t));
    state.entered = state.shown !== route();
    state.shown = route();
    main.replaceChildren(VIEWS[route()](viewCtx(route())));
  }
  if (focus) main.querySelector(".view-title")?.focus();
}

async function start() {
  const { body: me } = await call("/v1/auth/me");
  if (me.role !== "store_clerk" || !me.scope) {
    session.token = null;
    state.notice = ctx.t.login.notClerk;
    state.me = null;
    render();
    return;
  }
  state.me = me;
  state.store = (await call(`/v1/stores/${encodeURIComponent(me.scope)}`)).body;
  render();
}

function logout() {
  session.token = null;
  state.shown = null;
  state.me = null;
  state.store = null;
  location.hash = "";
  render();
}

setUnauthorizedHandler(() => {
  session.token = null;
  state.shown = null;
  state.me = null;
  state.store = null;
  state.notice = ctx.t.login.expired;
  render();
});
document.getElementById("lang").addEventListener("click", () => {
  state.lang = state.lang === "zh" ? "en" : "zh";
  localStorage.setItem("jy_lang", state.lang);
  const main = document.getElementById("main");
  const entered = typed(main);  // the same view, in the other language, as the clerk left it
  render(false);
  entered.into(main);
});
window.addEventListener("hashchange", () => render());

if (session.token) start().catch(() => { session.token = null; render(); });
else render(false);
