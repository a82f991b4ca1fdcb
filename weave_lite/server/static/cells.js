// Table cells: nested values expandable inline, groups expandable to their rows, column types in
// the header, timestamps in UTC or local time. No framework: DOM nodes built on demand.
import * as X from "./expr.js";

const TZ_KEY = "weave_lite.tz";
// "utc" or "local": how timestamp cells read; one switch for the whole page.
export const prefs = { tz: (typeof localStorage !== "undefined" && localStorage.getItem(TZ_KEY)) || "utc" };

export function setTimeZone(tz) {
  prefs.tz = tz === "local" ? "local" : "utc";
  try {
    localStorage.setItem(TZ_KEY, prefs.tz);
  } catch (e) {
    // private windows may refuse storage; the switch still applies to this page
  }
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const pad = (n, w = 2) => String(n).padStart(w, "0");

// An ISO timestamp (as the server sends it, `Z` for UTC) in the chosen time zone.
export function timeText(iso) {
  if (prefs.tz !== "local" || typeof iso !== "string" || !ISO_Z.test(iso)) return iso;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const frac = /\.(\d+)Z$/.exec(iso);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const zone = `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${frac ? "." + frac[1] : ""}${zone}`;
}

function isBytes(v) {
  return v && typeof v === "object" && "$bytes" in v && Object.keys(v).length === 1;
}

export function scalarText(value, type) {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") {
    if (/float/.test(type || "") && Number.isInteger(value) && Math.abs(value) < 1e16) return value.toFixed(1);
    const s = String(value);
    if (s.length > 12 && !Number.isInteger(value)) return String(Number(value.toPrecision(6)));
    return s;
  }
  if (typeof value === "string") return X.isTimeType(type) ? timeText(value) : value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (isBytes(value)) return `<${Math.floor((value.$bytes.length * 3) / 4)} bytes>`;
  return JSON.stringify(value);
}

function summary(value) {
  if (Array.isArray(value)) return `[${value.length} item${value.length === 1 ? "" : "s"}]`;
  const keys = Object.keys(value);
  const shown = keys.slice(0, 4).join(", ");
  return `{${shown}${keys.length > 4 ? `, … ${keys.length} keys` : ""}}`;
}

// A nested dict or list: a summary that opens into a key/value table (children built on open).
function nestedNode(value) {
  const details = el("details", "cell-nested");
  const sum = el("summary", null, summary(value));
  details.appendChild(sum);
  details.addEventListener("toggle", () => {
    if (!details.open || details.dataset.built) return;
    details.dataset.built = "1";
    const table = el("table", "cell-kv");
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    for (const [k, v] of entries.slice(0, 500)) {
      const tr = el("tr");
      tr.appendChild(el("th", null, k));
      const td = el("td");
      td.appendChild(valueNode(v, null));
      tr.appendChild(td);
      table.appendChild(tr);
    }
    if (entries.length > 500) table.appendChild(el("tr", "muted", `… ${entries.length - 500} more`));
    details.appendChild(table);
  });
  return details;
}

// The node showing one value: text, `null`, or an expandable nested value.
export function valueNode(value, type) {
  if (value !== null && typeof value === "object" && !isBytes(value)) return nestedNode(value);
  const t = scalarText(value, type);
  if (t === null) return el("span", "null", "null");
  return document.createTextNode(t.length > 300 ? t.slice(0, 299) + "…" : t);
}

// A header cell's content: the column name and its type.
export function headerNodes(c) {
  return [el("span", "col-name", c.name), el("span", "col-type", c.type)];
}

// A data cell (`td`) for a value of a column.
export function cellNode(value, column) {
  const num = typeof value === "number";
  const td = el("td", num ? "num" : "");
  td.dataset.column = column.name;
  td.appendChild(valueNode(value, column.type));
  if (typeof value === "string" && value.length > 40) td.title = value.slice(0, 4000);
  if (num && String(value) !== td.textContent) td.title = String(value);
  return td;
}

// A small table of rows, for a group's drill-down.
export function rowsTable(rows, columns) {
  const cols = columns || [...new Set(rows.flatMap((r) => (r && typeof r === "object" ? Object.keys(r) : [])))].map((name) => ({ name, type: "" }));
  const table = el("table", "result-table drill-table");
  const head = el("tr");
  for (const c of cols) head.appendChild(el("th", null, c.name));
  const thead = el("thead");
  thead.appendChild(head);
  const tbody = el("tbody");
  for (const r of rows) {
    const tr = el("tr");
    for (const c of cols) {
      const td = el("td", typeof r[c.name] === "number" ? "num" : "");
      td.appendChild(valueNode(r[c.name], c.type));
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
  table.append(thead, tbody);
  return table;
}

// A group-count cell that opens, in a row under its own, the group's rows. `load()` resolves to
// `{rows, columns, total}`; `showAll()` (optional) turns the panel to the group's rows.
export function groupCell(column, count, load, showAll) {
  const td = el("td", "group-cell");
  td.dataset.column = column.name;
  const btn = el("button", "group-toggle", `▸ [${Number(count).toLocaleString("en-US")} rows]`);
  btn.type = "button";
  btn.setAttribute("aria-expanded", "false");
  td.appendChild(btn);
  btn.addEventListener("click", async (e) => {
    e.stopPropagation(); // the row's own click selects it (links); opening a group must not
    const tr = td.parentElement;
    const open = tr.nextElementSibling && tr.nextElementSibling.classList.contains("drill-row") ? tr.nextElementSibling : null;
    if (open) {
      open.remove();
      btn.textContent = btn.textContent.replace("▾", "▸");
      btn.setAttribute("aria-expanded", "false");
      return;
    }
    const drill = el("tr", "drill-row");
    const cell = el("td");
    cell.colSpan = tr.children.length;
    cell.appendChild(el("span", "muted", "loading…"));
    drill.appendChild(cell);
    tr.after(drill);
    btn.textContent = btn.textContent.replace("▸", "▾");
    btn.setAttribute("aria-expanded", "true");
    try {
      const r = await load();
      cell.replaceChildren(rowsTable(r.rows, r.columns));
      const note = el("div", "drill-note", `${r.rows.length} of ${Number(r.total ?? count).toLocaleString("en-US")} rows`);
      if (showAll) {
        const all = el("button", "drill-all", "show all rows");
        all.type = "button";
        all.addEventListener("click", showAll);
        note.append(" ", all);
      }
      cell.appendChild(note);
    } catch (err) {
      cell.replaceChildren(el("span", "expr-error", err.message || String(err)));
    }
  });
  return td;
}

// A filter box's text meaning "equal to this value" (see expr.js filterCall).
export function equalsText(value) {
  if (value === null || value === undefined) return "== null";
  if (typeof value === "string") return `== ${X.quote(value)}`;
  return `== ${value}`;
}
