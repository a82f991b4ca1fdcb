// Links between panels: the row (or group) selected in one table panel filters another panel on
// a column. A link is data, `{from, to, column}`, saved with the board; the filter it sets is an
// ordinary `.filter(...)` in the target's expression, so the user sees and can edit it.
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
