// Number, money and date formatting shared by the pages.

const intl = new Intl.NumberFormat();
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });

export const formatInt = (n) => (n === null || n === undefined ? "—" : intl.format(n));
export const formatCompact = (n) => (n === null || n === undefined ? "—" : compact.format(n));

/** Cost strings are decimals ("0.000123"); show enough digits to be meaningful. */
export function formatCost(value) {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  if (!Number.isFinite(n)) return "—";
  if (n === 0) return "$0";
  if (n < 0.0001) return "<$0.0001";
  if (n < 0.01) return `$${n.toFixed(4)}`;
  if (n < 100) return `$${n.toFixed(2)}`;
  return `$${intl.format(Math.round(n))}`;
}

/** A per-million-token price ("2.5" -> "$2.50"). */
export function formatPrice(value) {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  if (!Number.isFinite(n)) return null;
  if (n === 0) return "free";
  return n < 0.1 ? `$${n.toFixed(3)}` : `$${n.toFixed(2)}`;
}

export function formatMs(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

export function formatDate(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function formatDateTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

export function relativeTime(iso) {
  if (!iso) return "never";
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const sign = future ? 1 : -1;
  if (s < 60) return future ? "in a moment" : "just now";
  if (s < 3600) return rtf.format(sign * Math.round(s / 60), "minute");
  if (s < 86400) return rtf.format(sign * Math.round(s / 3600), "hour");
  if (s < 86400 * 30) return rtf.format(sign * Math.round(s / 86400), "day");
  return formatDate(iso);
}

/** "Today", "Yesterday", "Previous 7 days", ... for grouping the conversation list. */
export function dayBucket(iso) {
  const d = new Date(iso);
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  const days = Math.floor((today - new Date(d.getFullYear(), d.getMonth(), d.getDate())) / 86400000);
  if (days <= 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days < 7) return "Previous 7 days";
  if (days < 30) return "Previous 30 days";
  return d.toLocaleDateString(undefined, { month: "long", year: "numeric" });
}
