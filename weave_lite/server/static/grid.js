// The board as a grid of panels (gridstack.js, vendored under static/vendor/): place, move,
// resize; panel names; each panel's head controls (rename, hide editor, duplicate, remove).
import * as X from "./expr.js";

export const COLUMNS = 12;
const CELL_HEIGHT = 60;
const DEFAULT_H = { table: 8, plot: 7 };

let grid = null;
let onResized = () => {};

// Make `el` the grid; `resized(panelId)` is told when a panel's size changed (plots redraw).
export function initGrid(el, resized) {
  onResized = resized || onResized;
  grid = window.GridStack.init(
    {
      column: COLUMNS,
      cellHeight: CELL_HEIGHT,
      margin: 6,
      handle: ".panel-head",
      float: false,
      animate: false,
      resizable: { handles: "e, se, s" },
    },
    el,
  );
  grid.on("resizestop", (event, item) => onResized(item.getAttribute("gs-id")));
  return grid;
}

export function clearGrid() {
  grid.removeAll(true);
}

// Put a panel's root in a grid item at `layout` ({x, y, w, h}; without one, the next free place).
export function addToGrid(panel, layout) {
  const item = document.createElement("div");
  item.className = "grid-stack-item";
  const content = document.createElement("div");
  content.className = "grid-stack-item-content";
  content.appendChild(panel.root);
  item.appendChild(content);
  grid.el.appendChild(item);
  const opts = { id: panel.id, w: COLUMNS, h: DEFAULT_H[panel.kind] || 7, minW: 2, minH: 2 };
  if (layout && Number.isInteger(layout.x) && Number.isInteger(layout.y)) Object.assign(opts, { x: layout.x, y: layout.y });
  else opts.autoPosition = true;
  if (layout && Number.isInteger(layout.w)) opts.w = Math.max(1, Math.min(COLUMNS, layout.w));
  if (layout && Number.isInteger(layout.h)) opts.h = Math.max(1, layout.h);
  grid.makeWidget(item, opts);
  panel.gridItem = item;
}

export function removeFromGrid(panel) {
  if (panel.gridItem) grid.removeWidget(panel.gridItem, true);
  panel.gridItem = null;
}

// The panel's place on the grid now.
export function layoutOf(panel) {
  const n = panel.gridItem && panel.gridItem.gridstackNode;
  if (!n) return null;
  return { x: n.x, y: n.y, w: n.w, h: n.h };
}

// A name for a new panel: what it shows ("preds rows", "preds plot"), unique on the board.
export function defaultTitle(kind, expr, taken) {
  const tables = X.tablesOf(expr || "");
  const base = tables.length ? tables[0].split("/").pop() : kind;
  const what = kind === "plot" ? "plot" : X.describe(expr || "").group ? `by ${X.describe(expr).group}` : "rows";
  const stem = `${base} ${what}`;
  const names = new Set(taken);
  if (!names.has(stem)) return stem;
  for (let i = 2; ; i++) if (!names.has(`${stem} ${i}`)) return `${stem} ${i}`;
}

function button(cls, title, text, onclick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.title = title;
  b.setAttribute("aria-label", title);
  b.textContent = text;
  b.addEventListener("click", onclick);
  return b;
}

// Start renaming: the title becomes a text box; Enter or leaving it keeps the name, Escape undoes.
function rename(panel) {
  const input = document.createElement("input");
  input.className = "panel-rename";
  input.value = panel.title;
  input.setAttribute("aria-label", "panel name");
  panel.titleEl.replaceWith(input);
  input.focus();
  input.select();
  let done = false;
  const finish = (keep) => {
    if (done) return;
    done = true;
    const name = input.value.trim();
    if (keep && name) panel.title = name.slice(0, 200);
    panel.titleEl.textContent = panel.title;
    input.replaceWith(panel.titleEl);
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") finish(true);
    else if (e.key === "Escape") finish(false);
  });
  input.addEventListener("blur", () => finish(true));
}

export function setEditorHidden(panel, hidden) {
  panel.editorHidden = !!hidden;
  panel.editorWrap.hidden = panel.editorHidden;
  panel.editorToggle.textContent = panel.editorHidden ? "✎ show" : "✎ hide";
  panel.editorToggle.title = panel.editorHidden ? "show the expression editor" : "hide the expression editor";
  panel.root.classList.toggle("editor-hidden", panel.editorHidden);
}

// The head controls of a panel: its name and the rename / editor / duplicate / remove buttons.
export function headControls(panel, { duplicate, remove }) {
  panel.titleEl = document.createElement("span");
  panel.titleEl.className = "panel-title";
  panel.titleEl.textContent = panel.title;
  panel.titleEl.title = "double-click to rename";
  panel.titleEl.addEventListener("dblclick", () => rename(panel));
  panel.editorToggle = button("panel-editor-toggle", "hide the expression editor", "✎ hide", () => setEditorHidden(panel, !panel.editorHidden));
  return {
    title: panel.titleEl,
    buttons: [
      button("panel-rename-btn", "rename panel", "✏", () => rename(panel)),
      panel.editorToggle,
      button("panel-duplicate", "duplicate panel", "copy", () => duplicate(panel)),
      button("panel-remove", "remove panel", "×", () => remove(panel)),
    ],
  };
}
