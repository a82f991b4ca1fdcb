// Small inline-SVG charts: a line over time, a histogram, bars by group. No libraries.

const NS = "http://www.w3.org/2000/svg";
const MARGIN = { top: 14, right: 18, bottom: 46, left: 64 };

function el(name, attrs, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function text(parent, x, y, content, attrs) {
  const t = el("text", Object.assign({ x, y }, attrs || {}), parent);
  t.textContent = content;
  return t;
}

export function toNumber(v) {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    if (/^\d{4}-\d\d-\d\d/.test(v)) {
      const t = Date.parse(v.endsWith("Z") || /[+-]\d\d:?\d\d$/.test(v) || v.length <= 10 ? v : v + "Z");
      return Number.isFinite(t) ? t : null;
    }
    return null;
  }
  return null;
}

export function niceTicks(lo, hi, count) {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  // widen the domain to whole steps so that the axis starts and ends on a tick
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks = [];
  for (let v = lo; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return { lo, hi, ticks };
}

function fmtNumber(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

function fmtTime(ms, span) {
  const d = new Date(ms);
  const iso = d.toISOString();
  if (span < 10 * 1000) return iso.slice(11, 23);
  if (span < 2 * 60 * 1000) return iso.slice(11, 19);
  if (span < 2 * 86400 * 1000) return iso.slice(11, 16);
  return iso.slice(5, 10);
}

function frame(svg, width, height) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("role", "img");
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const g = el("g", { transform: `translate(${MARGIN.left},${MARGIN.top})` }, svg);
  return { g, plotW, plotH };
}

function yAxis(g, ys, plotH, plotW, label) {
  const axis = el("g", { class: "axis y-axis" }, g);
  for (const t of ys.ticks) {
    const y = plotH - ((t - ys.lo) / (ys.hi - ys.lo)) * plotH;
    el("line", { x1: 0, x2: plotW, y1: y, y2: y, class: "grid" }, axis);
    text(axis, -6, y + 4, fmtNumber(t), { "text-anchor": "end" });
  }
  if (label) text(axis, -MARGIN.left + 12, plotH / 2, label, { transform: `rotate(-90 ${-MARGIN.left + 12} ${plotH / 2})`, "text-anchor": "middle", class: "axis-label" });
}

function xLabel(g, plotW, plotH, label) {
  if (label) text(g, plotW / 2, plotH + 40, label, { "text-anchor": "middle", class: "axis-label" });
}

function empty(svg, width, height, message) {
  const { g, plotW, plotH } = frame(svg, width, height);
  text(g, plotW / 2, plotH / 2, message, { "text-anchor": "middle", class: "plot-empty" });
  svg.setAttribute("data-marks", "0");
}

// points: [{x, y}] with x a number or an ISO time string.
export function drawLine(svg, rows, opts) {
  const { width = 640, height = 260, xLabel: xl = "", yLabel: yl = "" } = opts || {};
  const pts = [];
  let isTime = false;
  for (const r of rows) {
    if (typeof r.x === "string" && /^\d{4}-\d\d-\d\d/.test(r.x)) isTime = true;
    const x = toNumber(r.x);
    const y = toNumber(r.y);
    if (x !== null && y !== null) pts.push([x, y]);
  }
  if (!pts.length) return empty(svg, width, height, "no points to plot");
  pts.sort((a, b) => a[0] - b[0]);
  const { g, plotW, plotH } = frame(svg, width, height);
  let xlo = pts[0][0];
  let xhi = pts[pts.length - 1][0];
  if (xhi === xlo) {
    xlo -= 1;
    xhi += 1;
  }
  const ys = niceTicks(Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1])), 5);
  const sx = (x) => ((x - xlo) / (xhi - xlo)) * plotW;
  const sy = (y) => plotH - ((y - ys.lo) / (ys.hi - ys.lo)) * plotH;
  yAxis(g, ys, plotH, plotW, yl);
  const axis = el("g", { class: "axis x-axis" }, g);
  el("line", { x1: 0, x2: plotW, y1: plotH, y2: plotH, class: "domain" }, axis);
  const xt = isTime ? { ticks: Array.from({ length: 5 }, (_, i) => xlo + ((xhi - xlo) * i) / 4) } : niceTicks(xlo, xhi, 6);
  for (const t of xt.ticks) {
    if (t < xlo || t > xhi) continue;
    const x = sx(t);
    const anchor = x < 30 ? "start" : x > plotW - 30 ? "end" : "middle";
    el("line", { x1: x, x2: x, y1: plotH, y2: plotH + 5, class: "tick" }, axis);
    text(axis, x, plotH + 18, isTime ? fmtTime(t, xhi - xlo) : fmtNumber(t), { "text-anchor": anchor });
  }
  xLabel(g, plotW, plotH, xl);
  const d = pts.map((p, i) => `${i ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
  el("path", { d, class: "line mark" }, g);
  if (pts.length <= 300) {
    const dots = el("g", { class: "dots" }, g);
    for (const p of pts) el("circle", { cx: sx(p[0]).toFixed(1), cy: sy(p[1]).toFixed(1), r: 2.5, class: "dot mark" }, dots);
  }
  svg.setAttribute("data-marks", String(pts.length));
}

function bars(svg, items, opts) {
  // items: [{label, lo?, hi?, value}]
  const { width = 640, height = 260, xLabel: xl = "", yLabel: yl = "", numericX = false } = opts || {};
  const { g, plotW, plotH } = frame(svg, width, height);
  const ys = niceTicks(Math.min(0, ...items.map((b) => b.value)), Math.max(0, ...items.map((b) => b.value)), 5);
  const sy = (y) => plotH - ((y - ys.lo) / (ys.hi - ys.lo)) * plotH;
  yAxis(g, ys, plotH, plotW, yl);
  const axis = el("g", { class: "axis x-axis" }, g);
  el("line", { x1: 0, x2: plotW, y1: plotH, y2: plotH, class: "domain" }, axis);
  const bw = plotW / items.length;
  const marks = el("g", { class: "bars" }, g);
  const every = Math.max(1, Math.ceil(items.length / 12));
  items.forEach((b, i) => {
    const x = i * bw;
    const y = sy(Math.max(0, b.value));
    const h = Math.abs(sy(b.value) - sy(0));
    const rect = el("rect", { x: (x + (numericX ? 0.5 : bw * 0.1)).toFixed(1), y: y.toFixed(1), width: Math.max(1, numericX ? bw - 1 : bw * 0.8).toFixed(1), height: Math.max(0, h).toFixed(1), class: "bar mark" }, marks);
    const title = el("title", {}, rect);
    title.textContent = `${b.label}: ${fmtNumber(b.value)}`;
    if (numericX) {
      // a histogram: label the bin edges
      if (i % every === 0) text(axis, x, plotH + 16, fmtNumber(b.lo), { "text-anchor": i === 0 ? "start" : "middle" });
      if (i === items.length - 1) text(axis, plotW, plotH + 16, fmtNumber(b.hi), { "text-anchor": "end" });
    } else if (i % every === 0) {
      const label = String(b.label);
      text(axis, x + bw / 2, plotH + 16, label.length > 14 ? label.slice(0, 13) + "…" : label, { "text-anchor": "middle" });
    }
  });
  xLabel(g, plotW, plotH, xl);
  svg.setAttribute("data-marks", String(items.length));
}

export function drawHistogram(svg, values, opts) {
  const nums = [];
  for (const v of values) {
    const n = toNumber(v);
    if (n !== null) nums.push(n);
  }
  const { width = 640, height = 260 } = opts || {};
  if (!nums.length) return empty(svg, width, height, "no numbers to plot");
  let lo = Infinity;
  let hi = -Infinity;
  for (const n of nums) {
    if (n < lo) lo = n;
    if (n > hi) hi = n;
  }
  const nbins = Math.min(30, Math.max(1, Math.ceil(Math.sqrt(nums.length))));
  if (hi === lo) hi = lo + 1;
  const step = (hi - lo) / nbins;
  const counts = new Array(nbins).fill(0);
  for (const n of nums) counts[Math.min(nbins - 1, Math.floor((n - lo) / step))]++;
  const items = counts.map((c, i) => ({ label: `${fmtNumber(lo + i * step)} – ${fmtNumber(lo + (i + 1) * step)}`, lo: lo + i * step, hi: lo + (i + 1) * step, value: c }));
  bars(svg, items, Object.assign({ yLabel: "count", numericX: true }, opts));
}

export function drawBars(svg, rows, opts) {
  const items = [];
  for (const r of rows.slice(0, 60)) {
    const v = toNumber(r.y);
    if (v === null) continue;
    items.push({ label: r.x === null || r.x === undefined ? "null" : typeof r.x === "object" ? JSON.stringify(r.x) : String(r.x), value: v });
  }
  const { width = 640, height = 260 } = opts || {};
  if (!items.length) return empty(svg, width, height, "no groups to plot");
  bars(svg, items, opts);
}
