// Links between panels: the row (or group) selected in one table panel, or the group clicked in a
// plot panel (a bar, a point or legend entry of a series, a histogram bin), filters another panel
// on a column. A link is data, `{from, to, column}`, saved with the board; the filter it sets is
// an ordinary `.filter(...)` in the target's expression, so the user sees and can edit it:
//
//   .filter(row => row["model"] == "m1")                     a bar, a series, a table row
//   .filter(row => row["lat"] >= 10 && row["lat"] < 12.5)    a histogram bin
import * as X from "./expr.js";
import { equalsText } from "./cells.js";

let links = [];

export function setLinks(list) {
  links = (Array.isArray(list) ? list : []).filter((l) => l && l.from && l.to && l.column).map((l) => ({ from: l.from, to: l.to, column: l.column }));
}

export function linksJSON(panelIds) {
  const ids = new Set(panelIds);
  return links.filter((l) => ids.has(l.from) && ids.has(l.to));
}

export function addLink(from, to, column) {
  if (!from || !to || !column || from === to) return;
  if (!links.some((l) => l.from === from && l.to === to && l.column === column)) links.push({ from, to, column });
}

export function removeLinksOf(panelId) {
  links = links.filter((l) => l.from !== panelId && l.to !== panelId);
}

export function linksFrom(panelId) {
  return links.filter((l) => l.from === panelId);
}

// A filter box's text for "column equals value" (timestamps unquoted: expr.js makes a Date).
function filterText(value, type) {
  if (typeof value === "string" && X.isTimeType(type)) return `== ${value}`;
  return equalsText(value);
}

// `row` of `source`'s result was selected: filter every linked panel on the linked column.
export function select(source, row, result, panels) {
  const out = linksFrom(source.id);
  if (!out.length) return;
  const types = new Map((result.columns || []).map((c) => [c.name, c.type]));
  for (const link of out) {
    const target = panels.find((p) => p.id === link.to);
    if (!target) continue;
    let value = row[link.column];
    // a `groups` result keys its rows as `groupkey`; a link on any column then uses the key
    if (!(link.column in row) && result.kind === "groups") value = row.groupkey;
    const type = types.get(link.column) || (baseType(target, link.column) ?? "");
    target.setExpr(X.setFilter(target.expr, link.column, filterText(value, type), type));
  }
}

function baseType(panel, column) {
  const c = (panel.baseColumns || []).find((x) => x.name === column);
  return c ? c.type : null;
}

function option(value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
}

// The link controls in a table panel's toolbar: the panels this one filters, and a form to add one.
export function linkControls(source, panels, columns) {
  const wrap = document.createElement("span");
  wrap.className = "link-controls";
  const chips = document.createElement("span");
  chips.className = "link-chips";
  const render = () => {
    chips.replaceChildren(
      ...linksFrom(source.id).map((l) => {
        const t = panels().find((p) => p.id === l.to);
        const chip = document.createElement("span");
        chip.className = "link-chip";
        chip.dataset.to = l.to;
        chip.textContent = `→ ${t ? t.title : l.to} on ${l.column} `;
        const x = document.createElement("button");
        x.type = "button";
        x.className = "link-remove";
        x.title = "remove link";
        x.textContent = "×";
        x.addEventListener("click", () => {
          links = links.filter((k) => k !== l);
          render();
        });
        chip.appendChild(x);
        return chip;
      }),
    );
  };
  const target = document.createElement("select");
  target.className = "link-target";
  target.setAttribute("aria-label", "link: panel to filter");
  const column = document.createElement("select");
  column.className = "link-column";
  column.setAttribute("aria-label", "link: column to filter on");
  const fill = () => {
    target.replaceChildren(option("", "link to…"), ...panels().filter((p) => p !== source).map((p) => option(p.id, p.title)));
    column.replaceChildren(...columns().filter((c) => c.name !== "rows").map((c) => option(c.name, c.name)));
  };
  target.addEventListener("focus", fill);
  target.addEventListener("mousedown", fill);
  const add = document.createElement("button");
  add.type = "button";
  add.className = "link-add";
  add.textContent = "Link";
  add.title = "the row selected here filters the chosen panel on the chosen column";
  add.addEventListener("click", () => {
    addLink(source.id, target.value, column.value);
    render();
  });
  wrap.append(target, column, add, chips);
  wrap.refresh = () => {
    const t = target.value;
    const c = column.value;
    fill();
    target.value = t;
    if (c) column.value = c;
    render();
  };
  render();
  return wrap;
}

// -- plot panels as link sources -----------------------------------------------------------------

// The source columns a plot's marks stand for: the bar's x, the series, the histogram's column
// (a line's x is a time bin: dragging over it sets the board's time range instead).
export function plotGroupColumns(plot) {
  const out = [];
  if (plot.type === "bar" && plot.x) out.push(plot.x);
  if (plot.type === "histogram" && plot.y) out.push(plot.y);
  if (plot.color) out.push(plot.color);
  return out;
}

export function plotLinkColumns(panel) {
  const names = plotGroupColumns(panel.plot);
  return (panel.baseColumns || []).filter((c) => names.includes(c.name));
}

// What a click on a Vega item of `plot` selects: {column: value} ({lo, hi} for a bin), or null.
// `rows` are the plotted rows (a bar's drawn x is text: its value comes from the row).
export function plotSelection(plot, item, rows) {
  const d = item && item.datum;
  if (!d || typeof d !== "object") return null;
  const role = (item.mark && item.mark.role) || "";
  const sel = {};
  if (role.startsWith("legend")) {
    if (plot.color && d.value !== undefined) sel[plot.color] = d.value;
    return Object.keys(sel).length ? sel : null;
  }
  if (plot.type === "histogram" && plot.y && typeof d.start === "number" && typeof d.stop === "number") {
    sel[plot.y] = { lo: d.start, hi: d.stop };
  } else if (plot.type === "bar" && plot.x && "x" in d) {
    const row = (rows || []).find((r) => String(r.x ?? "null") === d.x && (!plot.color || r.series === d.series));
    if (row) sel[plot.x] = row.x;
  }
  if (plot.color && "series" in d) sel[plot.color] = d.series;
  return Object.keys(sel).length ? sel : null;
}

// `expr` with its range filter on `column` set to lo <= x < hi (an equality filter on it dropped).
export function setRangeFilter(expr, column, lo, hi, type) {
  const col = `row[${X.quote(column)}]`;
  const call = `.filter(row => ${col} >= ${lo} && ${col} < ${hi})`;
  const chain = X.splitChain(X.setFilter(expr, column, "", type));
  const own = (seg) => seg.trim().startsWith(`.filter(row => ${col} >= `) && seg.includes(`&& ${col} < `);
  const at = chain.segs.findIndex(own);
  if (at >= 0) chain.segs[at] = call;
  else {
    let k = chain.segs.length; // before a trailing sort, like the filters the table UI writes
    while (k > 0 && (X.parseSeg(chain.segs[k - 1]) || {}).kind === "sort") k--;
    chain.segs.splice(k, 0, call);
  }
  return (chain.simple ? chain.base : `(${chain.base})`) + chain.segs.join("");
}

// A selection `sel` (from plotSelection) in plot panel `source`: filter every linked panel.
export function selectPlot(source, sel, panels) {
  for (const link of linksFrom(source.id)) {
    const target = panels.find((p) => p.id === link.to);
    if (!target || !(link.column in sel)) continue;
    const value = sel[link.column];
    const type = baseType(source, link.column) ?? baseType(target, link.column) ?? "";
    if (value && typeof value === "object" && "lo" in value) target.setExpr(setRangeFilter(target.expr, link.column, value.lo, value.hi, type));
    else target.setExpr(X.setFilter(target.expr, link.column, filterText(value, type), type));
  }
}

// Clicks on a drawn plot (a Vega view) select the clicked group; `shown(sel)` displays it.
export function watchPlot(source, view, rows, panels, shown) {
  view.addEventListener("click", (_event, item) => {
    const sel = plotSelection(source.plot, item, rows);
    if (!sel) return;
    shown(sel);
    selectPlot(source, sel, panels());
  });
}

// The text of a selection: `model = m1, lat in [10, 12.5)`.
export function selectionText(sel) {
  return Object.entries(sel)
    .map(([k, v]) => (v && typeof v === "object" ? `${k} in [${v.lo}, ${v.hi})` : `${k} = ${v}`))
    .join(", ");
}
