// The API as the clerk app uses it: bearer token, JSON, errors as ApiError with the server's code.

const TOKEN = "jy_clerk_token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN, value); else sessionStorage.removeItem(TOKEN);
  },
};

/** Called with the ApiError when the token stops working (expired, account changed). */
export let onUnauthorized = () => {};
export function setUnauthorizedHandler(handler) { onUnauthorized = handler; }

/**
 * fetch with the session's token. `idempotencyKey` goes in the Idempotency-Key header.
 * Resolves with {body, replayed}; rejects with ApiError (server said no) or TypeError (network).
 */
export async function call(path, { method = "GET", json, form, idempotencyKey } = {}) {
  const headers = { Accept: "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = new URLSearchParams(form);
  const response = await fetch(path, { method, headers, body });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const err = new ApiError(response.status, data?.error?.code || `http_${response.status}`,
      data?.error?.message || response.statusText);
    if (response.status === 401 && !path.endsWith("/auth/token")) onUnauthorized(err);
    throw err;
  }
  return { body: data, replayed: response.headers.get("Idempotent-Replayed") === "true" };
}
