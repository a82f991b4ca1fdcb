// The drift view of a `current.drift(reference)` result and a table's profile-window reports.
// A drift result is a rows result with column/statistic/threshold/drifted/*_distribution columns:
// one card per column (statistic vs threshold, a drifted/ok badge, an SVG overlay of the two
// distributions: CDF lines for numeric columns, paired bars for categorical ones).

import { h } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const W = 260;
const H = 96;
const PAD = { l: 6, r: 6, t: 6, b: 16 };
const COLORS = { reference: "#94a3b8", current: "#1f6feb" };

const CSS = `
.drift-view { display: grid; align-items: start; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 10px; margin: 6px 0 10px; }
.drift-card { border: 1px solid var(--border); border-radius: 8px; padding: 8px 10px; background: #fff; }
.drift-card.drifted { border-color: #f04438; box-shadow: inset 3px 0 0 #f04438; }
.drift-card header { display: flex; align-items: baseline; gap: 6px; }
.drift-card .drift-col { font-weight: 600; font-family: ui-monospace, Menlo, monospace; overflow-wrap: anywhere; }
.drift-card .drift-meta { color: var(--muted); font-size: 12px; }
.drift-card .drift-stat { font-size: 12px; font-variant-numeric: tabular-nums; margin: 2px 0 4px; }
.drift-badge { margin-left: auto; font-size: 11px; font-weight: 700; padding: 1px 7px; border-radius: 9px; }
.drift-badge.drifted { background: #fee4e2; color: #b42318; }
.drift-badge.ok { background: #dcfae6; color: #067647; }
.drift-badge.none { background: #f2f4f7; color: #475467; }
.drift-overlay { width: 100%; height: auto; display: block; }
.drift-legend { font-size: 11px; color: var(--muted); }
.drift-legend i { display: inline-block; width: 10px; height: 3px; margin: 0 3px 2px 6px; vertical-align: middle; }
.profile-reports { background: var(--panel); border: 1px solid var(--border); border-radius: 10px; padding: 10px 12px; margin-bottom: 16px; }
.profile-reports h3 { margin: 0 0 6px; font-size: 14px; }
.profile-reports table { border-collapse: collapse; font-size: 12px; }
.profile-reports td, .profile-reports th { padding: 3px 8px; border-bottom: 1px solid var(--border); text-align: left; vertical-align: top; }
.profile-reports .constraint { white-space: nowrap; }
.profile-reports .constraint.failed { color: #b42318; font-weight: 600; }
.profile-reports .constraint.passed { color: #067647; }
`;

function ensureStyle() {
  if (document.getElementById("drift-style")) return;
  const style = document.createElement("style");
  style.id = "drift-style";
  style.textContent = CSS;
  document.head.appendChild(style);
}

function svg(name, attrs, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v !== "number") return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

/** Is `r` (an /api/evaluate result) a drift report? */
export function isDriftResult(r) {
  if (!r || r.kind !== "rows" || !Array.isArray(r.columns)) return false;
  const names = new Set(r.columns.map((c) => c.name));
  return ["column", "statistic", "threshold", "drifted", "reference_distribution"].every((n) => names.has(n));
}

function overlayNumeric(root, ref, cur) {
  const pts = [...(ref || []), ...(cur || [])].filter((p) => typeof p.x === "number");
  if (!pts.length) return;
  let lo = Math.min(...pts.map((p) => p.x));
  let hi = Math.max(...pts.map((p) => p.x));
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const sx = (x) => PAD.l + ((x - lo) / (hi - lo)) * (W - PAD.l - PAD.r);
  const sy = (p) => H - PAD.b - p * (H - PAD.t - PAD.b);
  svg("line", { x1: PAD.l, x2: W - PAD.r, y1: H - PAD.b, y2: H - PAD.b, stroke: "#d0d5dd" }, root);
  for (const [side, dist] of [["reference", ref], ["current", cur]]) {
    if (!dist || !dist.length) continue;
    const d = dist.map((p, i) => `${i ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p.p).toFixed(1)}`).join("");
    svg("path", { d, fill: "none", stroke: COLORS[side], "stroke-width": side === "current" ? 2 : 2.5, class: `cdf ${side}` }, root);
  }
  for (const [x, anchor] of [[lo, "start"], [hi, "end"]]) {
    const t = svg("text", { x: sx(x), y: H - 3, "font-size": 10, fill: "#667085", "text-anchor": anchor }, root);
    t.textContent = fmt(x);
  }
}

function overlayCategorical(root, ref, cur) {
  const labels = [...new Set([...(ref || []), ...(cur || [])].map((p) => p.label))];
  if (!labels.length) return;
  const share = (dist, label) => ((dist || []).find((p) => p.label === label) || { p: 0 }).p || 0;
  const top = Math.max(...labels.flatMap((l) => [share(ref, l), share(cur, l)]), 1e-9);
  const slot = (W - PAD.l - PAD.r) / labels.length;
  const bw = Math.max(1, slot * 0.38);
  labels.forEach((label, i) => {
    const x0 = PAD.l + i * slot + slot * 0.1;
    for (const [j, side, dist] of [[0, "reference", ref], [1, "current", cur]]) {
      const v = share(dist, label);
      const bh = (v / top) * (H - PAD.t - PAD.b);
      const bar = svg("rect", { x: x0 + j * bw, y: H - PAD.b - bh, width: bw, height: bh, fill: COLORS[side], class: `bar ${side}` }, root);
      svg("title", {}, bar).textContent = `${label} (${side}): ${(v * 100).toFixed(1)}%`;
    }
    if (slot >= 18) {
      const t = svg("text", { x: x0 + bw, y: H - 3, "font-size": 9, fill: "#667085", "text-anchor": "middle" }, root);
      t.textContent = String(label).length > 6 ? String(label).slice(0, 5) + "…" : String(label);
    }
  });
}

function card(row) {
  const flag = row.drifted;
  const cls = flag === true ? "drifted" : flag === false ? "ok" : "none";
  const root = svg("svg", { class: "drift-overlay", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `distributions of ${row.column}` });
  if (row.kind === "numeric") overlayNumeric(root, row.reference_distribution, row.current_distribution);
  else if (row.kind === "categorical") overlayCategorical(root, row.reference_distribution, row.current_distribution);
  const hasPlot = root.childNodes.length > 0;
  return h(
    "div",
    { class: `drift-card ${cls === "drifted" ? "drifted" : ""}`, "data-column": row.column, "data-drifted": String(flag) },
    h(
      "header",
      {},
      h("span", { class: "drift-col", text: row.column }),
      h("span", { class: "drift-meta", text: `${row.kind} · ${row.method}` }),
      h("span", { class: `drift-badge ${cls}`, text: flag === true ? "drifted" : flag === false ? "ok" : "n/a" }),
    ),
    h("div", { class: "drift-stat", text: `statistic ${fmt(row.statistic)} vs threshold ${fmt(row.threshold)} · n ${fmt(row.n_reference)} / ${fmt(row.n_current)}` }),
    hasPlot ? root : null,
    hasPlot ? h("div", { class: "drift-legend" }, h("i", { style: `background:${COLORS.reference}` }), "reference", h("i", { style: `background:${COLORS.current}` }), "current") : null,
  );
}

/** Show the drift view of `r` just before `anchor` (the table's scroll box), or hide it. */
export function showDrift(anchor, r) {
  let view = anchor.previousElementSibling;
  if (!view || !view.classList.contains("drift-view")) {
    if (!isDriftResult(r)) return;
    ensureStyle();
    view = h("div", { class: "drift-view" });
    anchor.before(view);
  }
  view.hidden = !isDriftResult(r);
  view.replaceChildren(...(view.hidden ? [] : r.rows.map(card)));
}

/** The constraint reports of `table`'s rotated profile windows, shown before `anchor` (or
 * removed when `table` is null or has no windows). */
let reportsFor = null; // the table whose reports are wanted (a later route wins)

export async function showProfileReports(anchor, table) {
  reportsFor = table;
  const old = document.getElementById("profile-reports");
  if (old) old.remove();
  if (!table) return;
  let body;
  try {
    const resp = await fetch(`/api/profiles/${table.split("/").map(encodeURIComponent).join("/")}`);
    if (!resp.ok) return;
    body = await resp.json();
  } catch (err) {
    return;
  }
  if (reportsFor !== table || !body.windows || !body.windows.length || document.getElementById("profile-reports")) return;
  ensureStyle();
  const rows = body.windows.map((w) =>
    h(
      "tr",
      { "data-start": w.start, "data-passed": w.report ? String(w.report.passed) : "unchecked" },
      h("td", { text: w.start }),
      h("td", {}, h("span", { class: `drift-badge ${!w.report ? "none" : w.report.passed ? "ok" : "drifted"}`, text: !w.report ? "no report" : w.report.passed ? "passed" : "failed" })),
      h(
        "td",
        {},
        (w.report ? w.report.results : []).map((c) =>
          h("div", { class: `constraint ${c.failed ? "failed" : "passed"}`, text: `${c.failed ? "✗" : "✓"} ${c.name} (passed ${c.passed}, failed ${c.failed})` }),
        ),
      ),
    ),
  );
  anchor.before(
    h(
      "section",
      { id: "profile-reports", class: "profile-reports", "data-table": body.table },
      h("h3", { text: `Profile windows of ${body.table}: ${body.checked} checked, ${body.failed} failed` }),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", { text: "window start" }), h("th", { text: "constraints" }), h("th", { text: "results" }))), h("tbody", {}, rows)),
    ),
  );
}
