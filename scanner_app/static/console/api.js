// Talking to the Jiuyuan API as the logged-in person (bearer token kept for this tab only).
const TOKEN = "jy_console_token";

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export const session = {
  get: () => JSON.parse(sessionStorage.getItem(TOKEN) || "null"),
  set: (value) => sessionStorage.setItem(TOKEN, JSON.stringify(value)),
  clear: () => sessionStorage.removeItem(TOKEN),
};

async function failure(response) {
  let code = "http_" + response.status, message = `HTTP ${response.status}`;
  try {
    const body = await response.json();
    if (body.error) ({ code, message } = body.error);
    else if (Array.isArray(body.detail)) message = body.detail.map((d) => d.msg).join("; ");
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(response.status, code, message, Number(response.headers.get("Retry-After")) || 0);
}

export async function request(path, { method = "GET", body, form, raw = false } = {}) {
  const headers = {};
  const token = session.get()?.access_token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (form) payload = new URLSearchParams(form);
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const response = await fetch(path, { method, headers, body: payload });
  if (!response.ok) {
    const error = await failure(response);
    if (response.status === 401 && token) { session.clear(); window.dispatchEvent(new Event("jy-logout")); }
    throw error;
  }
  return raw ? response : response.json();
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== "") q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : "";
}

/** Fetch an export with the token and hand it to the browser as a file download. */
export async function download(path, fallbackName) {
  const response = await request(path, { raw: true });
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] || fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
