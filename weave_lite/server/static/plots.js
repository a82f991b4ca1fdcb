// Plot panels that aggregate on the server, drawn with Vega-Lite (vendored in static/vendor).
//
// A plot panel evaluates one derived expression, shown under its toolbar, built from the panel's
// expression and its choices; every choice rewrites it:
//
//   line       src.groupby(row => [row["timestamp"].floor("5m"), row["model"]])
//                 .map(g => {"x": g.groupkey[0], "series": g.groupkey[1], "y": g["lat"].quantile(0.95)})
//   histogram  src.groupby(row => [row["lat"].bin(binsfixed(2.5)), row["model"]]).map(g => {...count})
//   bar        src.groupby(row => row["model"]).map(g => {"x": g.groupkey, "y": g.count})
//   scatter    src.randomlyDownsample(2000).map(row => {"x": row["a"], "y": row["b"], "series": ...})
//
// The time bin is chosen from the visible range (the board's time range written into the
// expression, else the data's min/max) so that there is about one bin per few pixels, over all
// rows. Histogram bins come from the column's min/max on the server. Dragging over a time plot
// sets the board's time range (see timerange.js).
//
// Top N plus "other": when the series column (for a bar without series, its x) has more than N
// values, a first query (shown as "top N of …") finds the N most frequent values over the visible
// rows, and the plot's expression folds every other value into one "other" series:
//
//   ["m3", "m7", ...].contains(row["model"]) ? row["model"] : "other"
//
// The first queries of a run (columns, the data's time span or value range, the top N) do not
// depend on one another once the choices are known, so they go out together; the choices are
// guessed from the panel's last columns (or the defaults) and a wrong guess is simply re-asked.

import * as X from "./expr.js";
import * as TR from "./timerange.js";
import { prefs } from "./cells.js";
import { h } from "./dom.js";

export const TYPES = ["line", "histogram", "bar", "scatter"];
export const AGGS = ["avg", "p50", "p95", "p99", "max"];
export const TOP_NS = [3, 5, 10, 20, 50];
export const TOP_DEFAULT = 10;
export const SAMPLE = 2000;
export const OTHER = "other";
const AGG_CALL = { avg: ".avg", p50: ".quantile(0.5)", p95: ".quantile(0.95)", p99: ".quantile(0.99)", max: ".max" };
const PX_PER_BIN = 4;
const ROW_LIMIT = 20000;
const HIST_BINS = 40;
// time bins the engine's floor() takes, in seconds
const UNITS = [
  [1, "s"], [5, "5s"], [10, "10s"], [15, "15s"], [30, "30s"], [60, "m"], [120, "2m"], [300, "5m"], [600, "10m"],
  [900, "15m"], [1800, "30m"], [3600, "h"], [7200, "2h"], [10800, "3h"], [21600, "6h"], [43200, "12h"], [86400, "d"], [604800, "7d"],
];

// The smallest engine time unit giving at most one bin per PX_PER_BIN pixels over `spanMs`.
export function binUnit(spanMs, widthPx) {
  const target = spanMs / 1000 / Math.max(1, widthPx / PX_PER_BIN);
  return (UNITS.find(([s]) => s >= target) || UNITS[UNITS.length - 1])[1];
}

export function niceStep(raw) {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9)) || raw;
  return Number(step.toPrecision(6));
}

function wrap(src) {
  const s = src.trim();
  return X.splitChain(s).simple ? s : `(${s})`;
}

export function aggCall(plot) {
  if (!plot.y || plot.y === "count") return "g.count";
  return `g[${X.quote(plot.y)}]${AGG_CALL[plot.agg] || AGG_CALL.avg}`;
}

function grouped(src, keys, fields) {
  const key = keys.length === 1 ? keys[0] : `[${keys.join(", ")}]`;
  const k = (i) => (keys.length === 1 ? "g.groupkey" : `g.groupkey[${i}]`);
  const out = fields.map(([name, i]) => `${X.quote(name)}: ${typeof i === "number" ? k(i) : i}`);
  return `${wrap(src)}.groupby(row => ${key}).map(g => {${out.join(", ")}})`;
}

export function topN(plot) {
  const n = Number(plot.top);
  return Number.isInteger(n) && n > 0 ? n : TOP_DEFAULT;
}

// The column whose values become series (or bars) and so may be cut to the top N, or null.
export function topColumn(plot) {
  if (plot.color) return plot.color;
  return plot.type === "bar" ? plot.x : null;
}

// The query for the most frequent values of `column` over the visible rows (most rows first).
export function topExpression(src, column) {
  return `${wrap(src)}.groupby(row => row[${X.quote(column)}]).map(g => {"key": g.groupkey, "n": g.count}).sort(r => [r["n"], r["key"]], ["desc", "asc"])`;
}

function literal(v) {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return X.quote(v);
}

// `row[col]`, or with a top list: the value when it is one of them, else "other".
function keyOf(column, top) {
  const c = `row[${X.quote(column)}]`;
  return top ? `[${top.map(literal).join(", ")}].contains(${c}) ? ${c} : ${X.quote(OTHER)}` : c;
}

// The derived expression of a plot; `bin` is the time unit (line) or the bin width (histogram);
// `top` the kept values of topColumn(plot) when the rest is folded into "other", else null.
export function plotExpression(src, plot, bin, top = null) {
  const col = (c) => `row[${X.quote(c)}]`;
  const color = plot.color ? [keyOf(plot.color, top)] : [];
  const series = plot.color ? [["series", 1]] : [];
  if (plot.type === "histogram") {
    if (!plot.y || plot.y === "count") return null;
    return grouped(src, [`${col(plot.y)}.bin(binsfixed(${bin}))`, ...color], [["bin", 0], ...series, ["y", "g.count"]]);
  }
  if (!plot.x) return null;
  if (plot.type === "scatter") {
    if (!plot.y || plot.y === "count") return null;
    const fields = [`"x": ${col(plot.x)}`, `"y": ${col(plot.y)}`, ...(plot.color ? [`"series": ${keyOf(plot.color, top)}`] : [])];
    return `${wrap(src)}.randomlyDownsample(${SAMPLE}).map(row => {${fields.join(", ")}})`;
  }
  if (plot.type === "bar") {
    const x = plot.color ? col(plot.x) : keyOf(plot.x, top);
    return grouped(src, [x, ...color], [["x", 0], ...series, ["y", aggCall(plot)]]);
  }
  if (!bin) {
    // a numeric x: raw points (the last ROW_LIMIT)
    if (!plot.y || plot.y === "count") return null;
    return `${wrap(src)}.map(row => {"x": ${col(plot.x)}, "y": ${col(plot.y)}})`;
  }
  return grouped(src, [`${col(plot.x)}.floor(${X.quote(bin)})`, ...color], [["x", 0], ...series, ["y", aggCall(plot)]]);
}

// -- the panel's toolbar ------------------------------------------------------------------------

export function buildPlot(panel) {
  const set = (change) => panel.setPlot(change);
  panel.plotType = h(
    "select",
    { class: "plot-type", "aria-label": "plot type", onchange: () => set({ type: panel.plotType.value }) },
    h("option", { value: "line", text: "Line over time" }),
    h("option", { value: "histogram", text: "Histogram" }),
    h("option", { value: "bar", text: "Bar by group" }),
    h("option", { value: "scatter", text: "Scatter (sampled)" }),
  );
  panel.plotType.value = panel.plot.type;
  panel.plotX = h("select", { class: "plot-x", "aria-label": "x column", onchange: () => set({ x: panel.plotX.value }) });
  panel.plotY = h("select", { class: "plot-y", "aria-label": "y column", onchange: () => set({ y: panel.plotY.value }) });
  panel.plotAgg = h("select", { class: "plot-agg", "aria-label": "aggregate", onchange: () => set({ agg: panel.plotAgg.value }) }, AGGS.map((a) => h("option", { value: a, text: a })));
  panel.plotColor = h("select", { class: "plot-color", "aria-label": "series by", onchange: () => set({ color: panel.plotColor.value || null }) });
  panel.plotTop = h(
    "select",
    { class: "plot-top", "aria-label": "top N series", title: 'the N most frequent values get their own series; the rest are "other"', onchange: () => set({ top: Number(panel.plotTop.value) }) },
    TOP_NS.map((n) => h("option", { value: String(n), text: String(n) })),
  );
  panel.plotTop.value = String(topN(panel.plot));
  panel.plotTopLine = h("code", { class: "plot-top-expr", hidden: true });
  panel.plotExprLine = h("code", { class: "plot-expr" });
  panel.plotNote = h("span", { class: "plot-note" });
  panel.svg = h("div", { class: "plot", role: "img", "data-marks": "0" });
  panel.plotArea = h("div", { class: "plot-area" }, panel.svg);
  panel.body.append(
    h(
      "div",
      { class: "toolbar" },
      panel.plotType,
      h("label", { class: "x-label" }, "x ", panel.plotX),
      h("label", { class: "y-label" }, "y ", panel.plotY),
      h("label", { class: "agg-label" }, panel.plotAgg),
      h("label", { class: "color-label" }, "series ", panel.plotColor),
      h("label", { class: "top-label" }, "top ", panel.plotTop),
      h("span", { class: "spacer" }),
      panel.plotNote,
    ),
    panel.plotTopLine,
    panel.plotExprLine,
    panel.plotArea,
  );
}

// The plot's choices completed for `cols` (a copy; nothing else is touched), and whether x is a time.
export function resolvePlot(plot, cols) {
  const p = Object.assign({}, plot);
  const byName = new Map(cols.map((c) => [c.name, c]));
  const numeric = cols.filter((c) => X.isNumericType(c.type) && !c.name.startsWith("_"));
  const times = cols.filter((c) => X.isTimeType(c.type));
  const cats = cols.filter((c) => /^(optional<)?(string|boolean|int)>?$/.test(c.type) && !c.name.startsWith("_"));
  if (!TYPES.includes(p.type)) p.type = "line";
  if (!AGGS.includes(p.agg)) p.agg = "avg";
  p.top = topN(p);
  if (p.type === "line") {
    if (!byName.has(p.x)) p.x = (byName.has("timestamp") ? "timestamp" : (times[0] || numeric[0] || cols[0] || {}).name) || null;
    if (p.y !== "count" && !byName.has(p.y)) p.y = (numeric.find((c) => c.name !== p.x) || {}).name || "count";
  } else if (p.type === "histogram") {
    p.x = null;
    if (!byName.has(p.y)) p.y = (numeric[0] || {}).name || null;
  } else if (p.type === "scatter") {
    const xs = [...numeric, ...times];
    if (!xs.some((c) => c.name === p.x)) p.x = (numeric.length > 1 ? numeric[0] : times[0] || numeric[0] || {}).name || null;
    if (!numeric.some((c) => c.name === p.y)) p.y = (numeric.find((c) => c.name !== p.x) || numeric[0] || {}).name || null;
  } else {
    if (!byName.has(p.x)) p.x = (cats.find((c) => c.type.includes("string")) || cats[0] || cols[0] || {}).name || null;
    if (p.y !== "count" && !byName.has(p.y)) p.y = "count";
  }
  if (p.color && (!byName.has(p.color) || p.color === p.x)) p.color = null;
  return { plot: p, isTime: X.isTimeType((byName.get(p.x) || {}).type), numeric, times, cats };
}

export function choosePlotColumns(panel, cols) {
  const { plot: p, isTime, numeric, times, cats } = resolvePlot(panel.plot, cols);
  Object.assign(panel.plot, p);
  const opts = (sel, names, value) => {
    sel.replaceChildren(...names.map((n) => h("option", { value: n, text: n || "(none)" })));
    sel.value = value || "";
  };
  const xNames = p.type === "scatter" ? [...numeric, ...times].map((c) => c.name) : cols.map((c) => c.name);
  opts(panel.plotX, xNames, p.x);
  opts(panel.plotY, p.type === "histogram" || p.type === "scatter" ? numeric.map((c) => c.name) : ["count", ...numeric.map((c) => c.name)], p.y);
  opts(panel.plotColor, ["", ...cats.map((c) => c.name).filter((n) => n !== p.x)], p.color);
  panel.plotAgg.value = p.agg;
  panel.plotTop.value = String(p.top);
  panel.plotX.parentElement.hidden = p.type === "histogram";
  panel.plotAgg.parentElement.hidden = p.type === "histogram" || p.type === "scatter" || p.y === "count";
  panel.plotTop.parentElement.hidden = !topColumn(p);
  panel.plotType.value = p.type;
  return { isTime };
}

// -- evaluation ---------------------------------------------------------------------------------

async function scalar(evaluate, expr) {
  const r = await evaluate(expr, 0, 1);
  return r.kind === "scalar" ? r.value : null;
}

function minMax(src, column) {
  const c = `${wrap(src)}[${X.quote(column)}]`;
  return `{"lo": ${c}.min, "hi": ${c}.max}`;
}

// [lo, hi] in ms of the board range written in the expression, or null (then the data's span).
function rangeSpan(src) {
  const r = TR.rangeOf(src);
  if (r && r.kind === "last") return [Date.now() - r.ms, Date.now()];
  if (r && r.kind === "abs" && r.to !== null) return [r.from, r.to];
  return null;
}

async function dataSpan(evaluate, src, x) {
  const v = await scalar(evaluate, minMax(src, x));
  const lo = v && Date.parse(v.lo);
  const hi = v && Date.parse(v.hi);
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
}

async function histStep(evaluate, src, y) {
  const v = await scalar(evaluate, minMax(src, y));
  if (!v || typeof v.lo !== "number" || typeof v.hi !== "number") return null;
  return niceStep((v.hi - v.lo) / HIST_BINS || 1);
}

// {keys, total}: the N most frequent values of `column` and how many distinct values there are.
async function topKeys(evaluate, src, column, n) {
  const r = await evaluate(topExpression(src, column), 0, n);
  return { keys: (r.rows || []).map((row) => row.key), total: r.total };
}

// The queries a run needs before its plot expression, as named thunks (name -> () => promise).
function prerequisites(evaluate, src, p, isTime) {
  const need = new Map();
  if (p.type === "line" && isTime && p.x && !rangeSpan(src)) need.set(`span ${p.x}`, () => dataSpan(evaluate, src, p.x));
  if (p.type === "histogram" && p.y) need.set(`hist ${p.y}`, () => histStep(evaluate, src, p.y));
  const tc = topColumn(p);
  if (tc) need.set(`top ${tc} ${p.top}`, () => topKeys(evaluate, src, tc, p.top));
  return need;
}

// The choices as far as they are known without this run's columns: from the panel's last
// columns of the same expression, else the defaults (a line over "timestamp").
function guessPlot(panel, src) {
  if (panel.plotCols && panel.plotCols.src === src) return resolvePlot(panel.plot, panel.plotCols.cols);
  const p = Object.assign({}, panel.plot, { top: topN(panel.plot) });
  if (p.type === "line" && !p.x) p.x = "timestamp";
  if (p.type === "bar" && !p.x) return { plot: Object.assign(p, { x: null }), isTime: false };
  return { plot: p, isTime: p.type === "line" };
}

export function plotWidth(panel) {
  return Math.max(360, Math.min(1400, panel.body.clientWidth || 720));
}

export async function loadPlot(panel, evaluate) {
  panel.plotLive = null; // set once a result is drawn
  const src = panel.expr.trim();
  const current = () => src === panel.expr.trim();
  const fail = (err) => current() && panel.showError(err);
  if (!src) {
    panel.showError(null);
    panel.plotExprLine.textContent = "";
    panel.plotTopLine.hidden = true;
    draw(panel, null, "type an expression above");
    panel.root.dataset.state = "empty";
    return;
  }
  // round 1: the columns, and what the guessed choices need, all at once
  const started = new Map();
  const start = (need) => {
    for (const [name, run] of need) {
      if (started.has(name)) continue;
      const promise = run();
      promise.catch(() => {}); // a wrong guess's error is nobody's: only awaited ones report
      started.set(name, promise);
    }
  };
  const headP = evaluate(src, 0, 0);
  const guess = guessPlot(panel, src);
  start(prerequisites(evaluate, src, guess.plot, guess.isTime));
  let head;
  try {
    head = await headP;
    if (head.kind !== "rows") throw Object.assign(new Error(`a plot needs a list of rows; this expression gives ${head.kind}`), { body: {} });
  } catch (err) {
    return fail(err);
  }
  if (!current()) return;
  const cols = head.columns;
  panel.baseColumns = cols;
  panel.plotCols = { src, cols };
  const { isTime } = choosePlotColumns(panel, cols);
  const p = Object.assign({}, panel.plot);
  // a choice made while this runs starts another run (the panel's dirty loop): drop this one
  const choice = JSON.stringify(p);
  const still = () => current() && JSON.stringify(panel.plot) === choice;
  const width = plotWidth(panel);
  const need = prerequisites(evaluate, src, p, isTime);
  start(need); // what the guess missed
  const got = {};
  try {
    const names = [...need.keys()];
    const values = await Promise.all(names.map((n) => started.get(n)));
    names.forEach((n, i) => (got[n.split(" ")[0]] = values[i]));
  } catch (err) {
    return fail(err);
  }
  if (!still()) return;
  let bin = null;
  let span = null;
  if (p.type === "line" && isTime) {
    span = rangeSpan(src) || got.span || null;
    bin = binUnit(span ? Math.max(1000, span[1] - span[0]) : 1000, width - 160);
  } else if (p.type === "histogram") {
    bin = got.hist || null;
  }
  const top = got.top && got.top.total > p.top ? got.top.keys : null;
  const tc = topColumn(p);
  panel.plotTopLine.hidden = !top;
  panel.plotTopLine.textContent = top ? `top ${p.top} of ${got.top.total.toLocaleString("en-US")} ${tc} values: ${topExpression(src, tc)}` : "";
  panel.root.dataset.plotTop = top ? JSON.stringify(top) : "";
  const derived = plotExpression(src, p, bin, top);
  panel.svg.dataset.rendered = "0"; // until this expression's result is drawn
  panel.plotExprLine.textContent = derived || "(choose columns to plot)";
  panel.root.dataset.plotExpr = derived || "";
  if (!derived || (p.type === "histogram" && !bin)) {
    panel.showError(null);
    draw(panel, null, derived ? "no numbers to plot" : "choose columns to plot");
    return;
  }
  let r;
  try {
    r = await evaluate(derived, 0, ROW_LIMIT);
    if (p.type === "line" && !bin && r.total > ROW_LIMIT) r = await evaluate(derived, r.total - ROW_LIMIT, ROW_LIMIT);
  } catch (err) {
    return fail(err);
  }
  if (!still()) return;
  panel.showError(null);
  // What a live push of this page needs to redraw it (app.js follows `derived` through /api/live);
  // raw points past ROW_LIMIT show the last ones, which a live page (the first n) cannot follow.
  const unitFor = (s) => binUnit(Math.max(1000, s[1] - s[0]), width - 160);
  const ctx = { derived, bin, span, isTime, width, top, headTotal: head.total, offset: r.offset || 0, limit: ROW_LIMIT, follow: !!bin || p.type !== "line" || r.total <= ROW_LIMIT, unitFor };
  showPlotResult(panel, r, ctx);
  panel.stamp(r);
  panel.plotLive = ctx;
}

// Draw one page of a plot's derived expression (evaluated, or pushed live with `ctx.span` grown).
export function showPlotResult(panel, r, ctx) {
  const p = panel.plot;
  const { bin, span, isTime, width, top } = ctx;
  const has = (row, k) => row[k] !== null && row[k] !== undefined;
  const rows = (r.rows || []).filter((row) => has(row, p.type === "histogram" ? "bin" : "x") && has(row, "y"));
  const fmt = (n) => Number(n).toLocaleString("en-US");
  if (p.type === "scatter") {
    panel.plotNote.textContent = `${fmt(r.total)} points sampled of ${fmt(ctx.headTotal)} rows`;
  } else {
    const what = p.type === "line" ? (bin ? `${bin} bins` : "points") : p.type === "bar" ? "groups" : "bins";
    panel.plotNote.textContent = `${fmt(r.total)} ${what}${r.total > r.returned ? `, first ${fmt(r.returned)}` : ""}`;
  }
  panel.svg.dataset.sampled = p.type === "scatter" ? String(r.total) : "";
  panel.svg.dataset.total = String(ctx.headTotal);
  panel.plotResult = r;
  draw(panel, { rows, bin, span, isTime, width, plot: p, top });
}

// -- drawing ------------------------------------------------------------------------------------

function yTitle(p) {
  return !p.y || p.y === "count" ? "count" : `${p.agg} ${p.y}`;
}

// The time axis follows the page's UTC/local switch (cells.js).
function timeAxis(p, span, bin) {
  const local = prefs.tz === "local";
  return {
    x: { field: "x", type: "temporal", scale: Object.assign({ type: local ? "time" : "utc" }, span ? { domain: span } : {}), title: `${p.x} (${local ? "local" : "UTC"}${bin ? `, ${bin} bins` : ""})` },
    tip: { field: "x", type: "temporal", title: p.x, format: "%Y-%m-%d %H:%M:%S", formatType: local ? "time" : "utc" },
  };
}

export function vegaSpec(p, data) {
  const { rows, bin, span, isTime, width, top } = data;
  // with a top N, the legend lists the kept values most frequent first, then "other"
  const domain = top ? { scale: { domain: [...top, OTHER] } } : {};
  const color = p.color ? { color: Object.assign({ field: "series", type: "nominal", title: p.color }, p.color && top ? domain : {}) } : {};
  const base = { width: Math.max(200, width - 170), height: 240, config: { view: { stroke: null } } };
  const tip = (...extra) => [...extra, ...(p.color ? [{ field: "series", type: "nominal", title: p.color }] : [])];
  if (p.type === "histogram") {
    const values = rows.map((r) => ({ start: r.bin.start, stop: r.bin.stop, series: r.series, y: r.y }));
    return Object.assign(base, {
      data: { values },
      mark: { type: "bar", opacity: p.color ? 0.55 : 1, binSpacing: 0 },
      encoding: Object.assign(
        {
          x: { field: "start", type: "quantitative", bin: { binned: true, step: bin }, title: p.y },
          x2: { field: "stop" },
          y: { field: "y", type: "quantitative", stack: null, title: "count" },
          tooltip: tip({ field: "start", title: "from" }, { field: "stop", title: "to" }, { field: "y", title: "count" }),
        },
        color,
      ),
    });
  }
  if (p.type === "bar") {
    const text = (v) => (v === null || v === undefined ? "null" : String(v));
    return Object.assign(base, {
      data: { values: rows.map((r) => ({ x: text(r.x), series: r.series, y: r.y })) },
      mark: { type: "bar" },
      encoding: Object.assign(
        {
          x: { field: "x", type: "nominal", title: p.x, sort: top && !p.color ? [...top.map(text), OTHER] : null },
          y: { field: "y", type: "quantitative", title: yTitle(p) },
          tooltip: tip({ field: "x", title: p.x }, { field: "y", title: yTitle(p) }),
        },
        color,
        p.color ? { xOffset: { field: "series" } } : {},
      ),
    });
  }
  const t = isTime ? timeAxis(p, p.type === "scatter" ? null : span, p.type === "scatter" ? null : bin) : null;
  const x = t ? t.x : { field: "x", type: "quantitative", title: p.x, scale: { zero: false } };
  const xTip = t ? t.tip : { field: "x", title: p.x };
  if (p.type === "scatter") {
    return Object.assign(base, {
      data: { values: rows },
      mark: { type: "point", filled: true, opacity: 0.6, size: 14 },
      encoding: Object.assign(
        { x, y: { field: "y", type: "quantitative", title: p.y, scale: { zero: false } }, tooltip: tip(xTip, { field: "y", title: p.y }) },
        color,
      ),
    });
  }
  return Object.assign(base, {
    data: { values: rows },
    encoding: Object.assign({ x, y: { field: "y", type: "quantitative", title: yTitle(p) } }, color),
    layer: [
      { mark: { type: "line", interpolate: "linear", clip: true }, params: isTime ? [{ name: "brush", select: { type: "interval", encodings: ["x"] } }] : [] },
      { mark: { type: "point", filled: true, size: rows.length > 600 ? 8 : 22, clip: true }, encoding: { tooltip: tip(xTip, { field: "y", title: yTitle(p) }) } },
    ],
  });
}

// Render `data` into the panel (or a message when null); the container carries data-marks,
// data-series and data-x-min/max (ms) so that tests and users can read what is drawn.
function draw(panel, data, message) {
  const el = panel.svg;
  if (panel.view) {
    panel.view.finalize();
    panel.view = null;
  }
  el.replaceChildren();
  const rows = data ? data.rows : [];
  el.dataset.marks = String(rows.length);
  el.dataset.series = String(new Set(rows.map((r) => r.series)).size);
  const xs = rows.map((r) => (typeof r.x === "string" ? Date.parse(r.x) : r.x)).filter(Number.isFinite);
  el.dataset.xMin = xs.length ? String(Math.min(...xs)) : "";
  el.dataset.xMax = xs.length ? String(Math.max(...xs)) : "";
  if (!data || !rows.length) {
    el.append(h("div", { class: "plot-empty", text: message || "nothing to plot" }));
    el.dataset.rendered = "1";
    return;
  }
  if (typeof window.vegaEmbed !== "function") {
    el.append(h("div", { class: "plot-empty", text: "the plot library (static/vendor/vega-embed.min.js) did not load" }));
    return;
  }
  el.dataset.rendered = "0";
  const p = data.plot || panel.plot;
  const spec = vegaSpec(p, data);
  window
    .vegaEmbed(el, spec, { actions: false, renderer: "svg", tooltip: { theme: "light" } })
    .then((res) => {
      panel.view = res.view;
      el.dataset.rendered = "1";
      if (p.type === "line" && data.isTime) watchBrush(el, res.view);
      if (panel.onPlotView) panel.onPlotView(res.view, data); // app.js: clicks select a group (links.js)
    })
    .catch((err) => panel.showError(err));
}

// Drag-to-zoom: when a drag over the plot ends with an interval, it becomes the board's range.
function watchBrush(el, view) {
  let latest = null;
  view.addSignalListener("brush", (_name, value) => {
    latest = value && value.x ? value.x : null;
  });
  el.addEventListener("pointerup", () => {
    setTimeout(() => {
      if (!latest || latest.length !== 2) return;
      const [a, b] = latest.map((v) => (v instanceof Date ? v.getTime() : Number(v)));
      latest = null;
      if (Number.isFinite(a) && Number.isFinite(b) && Math.abs(b - a) >= 1000) TR.setRange({ kind: "abs", from: Math.floor(Math.min(a, b)), to: Math.ceil(Math.max(a, b)) });
    }, 0);
  });
}
