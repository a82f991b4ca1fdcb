// The board-wide time range: presets (last 15 min / 1 h / 24 h / all), a custom from/to, and
// drag-to-zoom on a time plot. A range is not a hidden setting: it is one filter call the UI
// writes into every panel's expression, right after `.rows`, so the user sees it, can edit it,
// and the engine prunes segments by it:
//
//   .filter(row => row["timestamp"] >= now() - 900000)                                   last N
//   .filter(row => row["timestamp"] >= Date("…Z") && row["timestamp"] < Date("…Z"))      from/to
//
// `now()` is evaluated on every run, so a live board keeps following "the last N minutes".
// The custom from/to inputs read and show the page's time zone (the UTC/local switch of
// cells.js); the filter always holds the absolute instant, in UTC.

import { splitChain } from "./expr.js";
import { prefs } from "./cells.js";

export const PRESETS = [
  ["all", "All time", null],
  ["15m", "Last 15 min", 15 * 60 * 1000],
  ["1h", "Last 1 h", 60 * 60 * 1000],
  ["24h", "Last 24 h", 24 * 60 * 60 * 1000],
  ["custom", "Custom…", null],
];

const DATE = String.raw`Date\(\s*"([^"]*)"\s*\)`;
const TS = String.raw`row\[\s*"timestamp"\s*\]`;
const RANGE_RE = new RegExp(String.raw`^\.filter\(\s*row\s*=>\s*${TS}\s*>=\s*(?:now\(\)\s*-\s*(\d+)|${DATE})(?:\s*(?:&&|and)\s*${TS}\s*<\s*${DATE})?\s*\)$`);
const ROWS_RE = /^\.rows(\(\s*\))?$/;

let current = { kind: "all" };
let listeners = [];
let ui = null;

function iso(ms) {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

// The filter call for `range` ({kind: "all"} | {kind: "last", ms} | {kind: "abs", from, to}).
export function rangeCall(range) {
  if (!range || range.kind === "all") return null;
  if (range.kind === "last") return `.filter(row => row["timestamp"] >= now() - ${Math.round(range.ms)})`;
  return `.filter(row => row["timestamp"] >= Date("${iso(range.from)}") && row["timestamp"] < Date("${iso(range.to)}"))`;
}

// The range a segment written by rangeCall stands for, or null.
export function parseRange(seg) {
  const m = RANGE_RE.exec(seg.trim());
  if (!m) return null;
  if (m[1] !== undefined) return { kind: "last", ms: Number(m[1]) };
  const from = Date.parse(m[2]);
  const to = m[3] !== undefined ? Date.parse(m[3]) : null;
  if (!Number.isFinite(from)) return null;
  return { kind: "abs", from, to: Number.isFinite(to) ? to : null };
}

// The time range an expression is filtered to (the first range call of its chain), or null.
export function rangeOf(expr) {
  for (const seg of splitChain(expr || "").segs) {
    const r = parseRange(seg);
    if (r) return r;
  }
  return null;
}

// `expr` with its range call replaced by the one for `range` (removed for "all").
export function applyRange(expr, range) {
  const chain = splitChain(expr || "");
  let at = -1;
  for (let k = chain.segs.length - 1; k >= 0; k--) {
    if (parseRange(chain.segs[k])) {
      chain.segs.splice(k, 1);
      at = k;
    }
  }
  const call = rangeCall(range);
  if (call) {
    if (at < 0) {
      const rows = chain.segs.findIndex((s) => ROWS_RE.test(s.trim()));
      at = rows >= 0 ? rows + 1 : chain.segs.length;
    }
    chain.segs.splice(at, 0, call);
  }
  const base = chain.simple ? chain.base : `(${chain.base})`;
  return base + chain.segs.join("");
}

export function getRange() {
  return current;
}

// Set the board's range: every listener (the board) rewrites its panels' expressions.
export function setRange(range) {
  current = range && range.kind ? range : { kind: "all" };
  showRange();
  for (const fn of listeners) fn(current);
}

// Show the range a board's panels already carry (an opened board), without rewriting them.
export function adoptRange(exprs) {
  current = exprs.map(rangeOf).find((r) => r) || { kind: "all" };
  showRange();
}

export function onRangeChange(fn) {
  listeners.push(fn);
}

const pad = (n) => String(n).padStart(2, "0");

// A datetime-local value ("YYYY-MM-DDTHH:MM:SS") of `ms` in the page's time zone.
export function toInput(ms, tz = prefs.tz) {
  if (ms === null || ms === undefined) return "";
  if (tz !== "local") return new Date(ms).toISOString().slice(0, 19);
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// The instant (ms) of a datetime-local value read in the page's time zone, or null.
export function fromInput(text, tz = prefs.tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(text || "");
  if (!m) return null;
  const [y, mo, d, hh, mm, ss] = m.slice(1).map((v) => Number(v || 0));
  // local: the Date constructor reads the fields in the browser's zone (DST included)
  const ms = tz === "local" ? new Date(y, mo - 1, d, hh, mm, ss).getTime() : Date.UTC(y, mo - 1, d, hh, mm, ss);
  return Number.isFinite(ms) ? ms : null;
}

function zoneName() {
  return prefs.tz === "local" ? "local" : "UTC";
}

// Re-show the range after the page's time zone changed: the inputs keep their instants.
export function showZone() {
  if (!ui) return;
  const a = fromInput(ui.from.value, ui.zone);
  const b = fromInput(ui.to.value, ui.zone);
  ui.zone = prefs.tz;
  if (a !== null) ui.from.value = toInput(a);
  if (b !== null) ui.to.value = toInput(b);
  showRange();
}

function showRange() {
  if (!ui) return;
  const r = current;
  const preset = r.kind === "last" ? PRESETS.find((p) => p[2] === r.ms) : null;
  ui.select.value = r.kind === "all" ? "all" : preset ? preset[0] : "custom";
  const custom = ui.select.value === "custom";
  ui.custom.hidden = !custom;
  if (r.kind === "abs") {
    ui.from.value = toInput(r.from);
    ui.to.value = toInput(r.to);
  }
  ui.root.dataset.range = r.kind;
  ui.zoneLabel.textContent = zoneName();
  ui.from.setAttribute("aria-label", `from (${zoneName()})`);
  ui.to.setAttribute("aria-label", `to (${zoneName()})`);
}

// Build the range picker into `root` (an element of the top bar).
export function initTimeRange(root) {
  if (!root) return;
  const make = (tag, attrs) => Object.assign(document.createElement(tag), attrs || {});
  const select = make("select", { className: "time-preset", title: "board time range (filters every panel on timestamp)" });
  select.setAttribute("aria-label", "time range");
  for (const [value, label] of PRESETS) select.appendChild(make("option", { value, textContent: label }));
  const from = make("input", { type: "datetime-local", className: "time-from", step: 1 });
  from.setAttribute("aria-label", "from (UTC)");
  const to = make("input", { type: "datetime-local", className: "time-to", step: 1 });
  to.setAttribute("aria-label", "to (UTC)");
  const apply = make("button", { type: "button", className: "time-apply", textContent: "Apply" });
  const custom = make("span", { className: "time-custom" });
  const zoneLabel = make("span", { className: "muted time-zone", textContent: zoneName() });
  custom.append(from, make("span", { textContent: "–" }), to, zoneLabel, apply);
  root.replaceChildren(select, custom);
  ui = { root, select, from, to, custom, zoneLabel, zone: prefs.tz };
  select.addEventListener("change", () => {
    const p = PRESETS.find((x) => x[0] === select.value);
    if (select.value === "all") setRange({ kind: "all" });
    else if (p && p[2]) setRange({ kind: "last", ms: p[2] });
    else {
      custom.hidden = false;
      if (!from.value) {
        const now = Date.now();
        from.value = toInput(now - 3600 * 1000);
        to.value = toInput(now);
      }
    }
  });
  apply.addEventListener("click", () => {
    const a = fromInput(from.value);
    const b = fromInput(to.value);
    if (a !== null && b !== null && b > a) setRange({ kind: "abs", from: a, to: b });
  });
  showRange();
}
