// POS transaction numbers: this till's id, the business day and a running number. With the
// store id they make each write's Idempotency-Key, so a retry of the same sale books it once.
const TILL = "jy_clerk_till";

function shanghaiDay(now) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric",
    month: "2-digit", day: "2-digit" }).format(now);
  return parts.replaceAll("-", "");
}

/** This browser's till id: random, kept, so two tablets at one store never share numbers. */
export function tillId() {
  let id = localStorage.getItem(TILL);
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(4));
    id = "T" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
    localStorage.setItem(TILL, id);
  }
  return id;
}

/** The next transaction number of this till today, e.g. T1A2B3C4D-20261125-0007. */
export function nextPosTxn(now = new Date()) {
  const day = shanghaiDay(now);
  const slot = `jy_clerk_seq_${day}`;
  const seq = (Number(localStorage.getItem(slot)) || 0) + 1;
  localStorage.setItem(slot, String(seq));
  return `${tillId()}-${day}-${String(seq).padStart(4, "0")}`;
}

/** The same rule as the server's: 1-64 of A-Z a-z 0-9 . _ / - , starting alphanumeric. */
export const validPosTxn = (text) => /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/.test(text);

export const idempotencyKey = (storeId, posTxn) => `${storeId}:${posTxn}`;

export const today = () => {
  const d = shanghaiDay(new Date());
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}`;
};
