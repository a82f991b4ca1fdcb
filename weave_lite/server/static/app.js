// The weave_lite panel page: tables, boards of panels, live updates. Plain ES modules, no build.
import { h } from "./dom.js";
import * as X from "./expr.js";
import * as P from "./plots.js";
import * as TR from "./timerange.js";
import * as C from "./cells.js";
import * as G from "./grid.js";
import * as L from "./links.js";
import { LiveFeed, pushedSpan } from "./live.js";
import { showDrift, showProfileReports } from "./drift.js";

const PAGE_SIZES = [25, 50, 100, 500];
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const state = {
  root: "",
  tables: [],
  boards: [],
  ops: [],
  schemas: new Map(), // table name -> columns (or a pending promise)
  panels: [],
  boardName: null,
  nextId: 1,
  events: null,
  skipHash: null,
};
window.weaveLite = state; // for debugging from the console

// -- helpers -------------------------------------------------------------------------------------

function fmtInt(n) {
  return n === null || n === undefined ? "?" : Number(n).toLocaleString("en-US");
}

async function api(path, opts) {
  const res = await fetch(path, opts);
  let body;
  try {
    body = await res.json();
  } catch (e) {
    body = { error: `HTTP ${res.status} ${res.statusText}` };
  }
  if (!res.ok) {
    const err = new Error(body.error || `HTTP ${res.status}`);
    err.body = body;
    err.status = res.status;
    throw err;
  }
  return body;
}

function evaluate(expr, offset, limit) {
  return api("/api/evaluate", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ expr, offset, limit }),
  });
}

async function tableColumns(name) {
  if (!state.schemas.has(name)) {
    const p = api(`/api/tables/${name.split("/").map(encodeURIComponent).join("/")}`)
      .then((s) => {
        state.schemas.set(name, s.columns);
        return s.columns;
      })
      .catch(() => {
        state.schemas.delete(name);
        return [];
      });
    state.schemas.set(name, p);
  }
  return state.schemas.get(name);
}

// -- panels --------------------------------------------------------------------------------------

class Panel {
  constructor(spec) {
    this.id = spec.id || `p${state.nextId++}`;
    this.kind = ["plot", ...P.TYPES].includes(spec.kind) ? "plot" : "table";
    this.expr = spec.expr ?? spec.expression ?? "";
    this.pageSize = PAGE_SIZES.includes(spec.page_size) ? spec.page_size : 50;
    this.offset = 0;
    this.plot = Object.assign({ type: spec.kind !== "plot" && this.kind === "plot" ? spec.kind : "line", x: null, y: null, agg: "avg", color: null }, spec.plot || {});
    if (!P.TYPES.includes(this.plot.type)) this.plot.type = "line";
    this.inflight = false;
    this.dirty = false;
    this.timer = null;
    this.result = null;
    this.baseColumns = null; // columns of the expression without a UI group
    this.completion = null;
    this.title = spec.title || G.defaultTitle(this.kind, this.expr, state.panels.map((p) => p.title));
    this.layout = spec.layout || null;
    this.editorHidden = !!spec.editor_hidden;
    this.build();
  }

  toJSON() {
    const out = { id: this.id, kind: this.kind, expr: this.expr, page_size: this.pageSize };
    if (this.kind === "plot") out.plot = { type: this.plot.type, x: this.plot.x, y: this.plot.y, agg: this.plot.agg, color: this.plot.color, top: P.topN(this.plot) };
    Object.assign(out, { title: this.title, layout: G.layoutOf(this) || this.layout, editor_hidden: this.editorHidden });
    return out;
  }

  build() {
    this.editor = h("textarea", {
      class: "expr-editor",
      "aria-label": "expression",
      spellcheck: "false",
      rows: 2,
      placeholder: 'an expression, e.g. stream_table("entity/project/table").rows',
    });
    this.editor.value = this.expr;
    this.editor.addEventListener("input", () => this.onInput());
    this.editor.addEventListener("keydown", (e) => this.onKey(e));
    this.editor.addEventListener("blur", () => setTimeout(() => this.closeCompletion(), 150));
    this.completions = h("ul", { class: "completions", role: "listbox", hidden: true });
    this.error = h("pre", { class: "expr-error", role: "alert", hidden: true });
    this.status = h("span", { class: "run-status" });
    this.kindSelect = h(
      "select",
      { class: "panel-kind", "aria-label": "panel kind", onchange: () => this.setKind(this.kindSelect.value) },
      h("option", { value: "table", text: "Table" }),
      h("option", { value: "plot", text: "Plot" }),
    );
    this.kindSelect.value = this.kind;
    this.updated = h("span", { class: "panel-updated" });
    this.live = new LiveFeed((r) => this.showLive(r)); // pushed pages of a table or plot panel
    this.body = h("div", { class: "panel-body" });
    const head = G.headControls(this, { duplicate: duplicatePanel, remove: removePanel });
    this.root = h(
      "section",
      { class: `panel panel-${this.kind}`, "data-panel-id": this.id, "data-kind": this.kind },
      h(
        "div",
        { class: "panel-head" },
        this.kindSelect,
        head.title,
        h("span", { class: "spacer" }),
        this.updated,
        this.live.label,
        this.live.pauseBtn,
        head.buttons,
      ),
      (this.editorWrap = h(
        "div",
        { class: "editor-wrap" },
        this.editor,
        this.completions,
        h("div", { class: "editor-actions" }, h("button", { type: "button", class: "run", onclick: () => this.run() }, "Run"), h("span", { text: "Enter runs, Shift+Enter for a new line, Tab completes" }), this.status),
        this.error,
      )),
      this.body,
    );
    G.setEditorHidden(this, this.editorHidden);
    this.buildBody();
  }

  buildBody() {
    this.body.replaceChildren();
    this.root.dataset.kind = this.kind;
    this.root.className = `panel panel-${this.kind}`;
    if (this.kind === "table") {
      this.groupSelect = h("select", { class: "group-by", "aria-label": "group by", onchange: () => this.onGroup() });
      this.pageInfo = h("span", { class: "page-info" });
      this.prevBtn = h("button", { type: "button", class: "prev-page", onclick: () => this.page(-1) }, "◀ Prev");
      this.nextBtn = h("button", { type: "button", class: "next-page", onclick: () => this.page(1) }, "Next ▶");
      this.sizeSelect = h(
        "select",
        { class: "page-size", "aria-label": "rows per page", onchange: () => this.setPageSize(Number(this.sizeSelect.value)) },
        PAGE_SIZES.map((n) => h("option", { value: n, text: `${n} / page` })),
      );
      this.sizeSelect.value = String(this.pageSize);
      this.table = h("table", { class: "result-table" });
      this.scalar = h("div", { class: "scalar-value", hidden: true });
      this.linkControls = L.linkControls(this, () => state.panels, () => (this.result && this.result.columns) || this.baseColumns || []);
      this.body.append(
        h("div", { class: "toolbar" }, h("label", {}, "Group by ", this.groupSelect), this.linkControls, h("span", { class: "spacer" }), this.pageInfo, this.prevBtn, this.nextBtn, this.sizeSelect),
        this.scalar,
        h("div", { class: "table-scroll" }, this.table),
      );
      this.headerKey = null;
    } else {
      P.buildPlot(this); // plots.js: type, x, y, aggregate, series; Vega-Lite output
      // a click on a bar, a series or a histogram bin selects that group for the panel's links
      this.linkControls = L.linkControls(this, () => state.panels, () => L.plotLinkColumns(this));
      this.plotSelected = h("span", { class: "plot-selection", title: "the group selected here (filters the linked panels)" });
      const toolbar = this.body.querySelector(".toolbar");
      toolbar.insertBefore(this.plotSelected, toolbar.querySelector(".spacer"));
      toolbar.insertBefore(this.linkControls, this.plotSelected);
      this.onPlotView = (view, data) =>
        L.watchPlot(this, view, data.rows, () => state.panels, (sel) => {
          this.plotSelected.textContent = `selected: ${L.selectionText(sel)}`;
          this.plotSelected.dataset.selection = JSON.stringify(sel);
        });
    }
  }

  setKind(kind) {
    if (kind === this.kind) return;
    this.kind = kind;
    this.live.stop();
    this.buildBody();
    this.refresh();
  }

  // -- the expression ----------------------------------------------------------------------------

  setExpr(expr, { resetPage = true } = {}) {
    this.expr = expr;
    if (this.editor.value !== expr) this.editor.value = expr;
    if (resetPage) this.offset = 0;
    this.run();
  }

  run() {
    clearTimeout(this.timer);
    this.expr = this.editor.value;
    this.closeCompletion();
    return this.refresh();
  }

  onInput() {
    this.expr = this.editor.value;
    this.offset = 0;
    this.updateCompletion();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 600);
  }

  onKey(e) {
    const c = this.completion;
    if (c && c.items.length && !this.completions.hidden) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        c.index = (c.index + (e.key === "ArrowDown" ? 1 : -1) + c.items.length) % c.items.length;
        this.renderCompletion();
        return;
      }
      if (e.key === "Tab" || (e.key === "Enter" && !e.shiftKey && c.touched)) {
        e.preventDefault();
        this.acceptCompletion(c.items[c.index]);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        this.closeCompletion();
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      this.offset = 0;
      this.run();
    }
  }

  // -- completion --------------------------------------------------------------------------------

  async updateCompletion() {
    const text = this.editor.value;
    const pos = this.editor.selectionStart;
    const before = text.slice(0, pos);
    let m;
    let items = [];
    let from = pos;
    if ((m = /stream_table\(\s*["']([^"']*)$/.exec(before))) {
      from = pos - m[1].length;
      items = state.tables.map((t) => ({ label: t.name, kind: `${fmtInt(t.num_rows)} rows` })).filter((i) => i.label.startsWith(m[1]));
    } else if ((m = /\[\s*["']([^"'\]]*)$/.exec(before))) {
      from = pos - m[1].length;
      const cols = await this.knownColumns();
      items = cols.filter((c) => c.name.startsWith(m[1])).map((c) => ({ label: c.name, kind: c.type }));
    } else if ((m = /\.([A-Za-z_]\w*)?$/.exec(before)) && !/\d\.$/.test(before)) {
      const prefix = m[1] || "";
      from = pos - prefix.length;
      items = state.ops.filter((o) => !o.operator && o.name.startsWith(prefix) && o.name !== prefix).map((o) => ({ label: o.name, kind: o.area || "op" }));
    } else if ((m = /(?:^|[^\w."'])([A-Za-z_]\w*)$/.exec(before))) {
      const prefix = m[1];
      from = pos - prefix.length;
      items = state.ops.filter((o) => !o.operator && o.name.startsWith(prefix) && o.name !== prefix).map((o) => ({ label: o.name, kind: o.area || "op" }));
    }
    if (this.editor.value !== text) return; // typed on meanwhile
    if (!items.length) return this.closeCompletion();
    this.completion = { items: items.slice(0, 12), index: 0, from, to: pos, touched: false };
    this.renderCompletion();
  }

  async knownColumns() {
    const seen = new Map();
    const add = (cols) => (cols || []).forEach((c) => !seen.has(c.name) && seen.set(c.name, c));
    add(this.result && this.result.columns);
    add(this.baseColumns);
    for (const name of X.tablesOf(this.editor.value)) {
      const full = state.tables.find((t) => X.sameTable(name, t.name));
      if (full) add(await tableColumns(full.name));
    }
    return [...seen.values()];
  }

  renderCompletion() {
    const c = this.completion;
    this.completions.replaceChildren(
      ...c.items.map((item, i) =>
        h(
          "li",
          {
            class: i === c.index ? "selected" : "",
            role: "option",
            "data-value": item.label,
            onmousedown: (e) => {
              e.preventDefault();
              this.acceptCompletion(item);
            },
          },
          h("span", { class: "label", text: item.label }),
          h("span", { class: "kind", text: item.kind || "" }),
        ),
      ),
    );
    this.completions.hidden = false;
    if (c.index !== 0) c.touched = true;
  }

  acceptCompletion(item) {
    const c = this.completion;
    const v = this.editor.value;
    this.editor.value = v.slice(0, c.from) + item.label + v.slice(c.to);
    const caret = c.from + item.label.length;
    this.editor.setSelectionRange(caret, caret);
    this.closeCompletion();
    this.editor.focus();
    this.onInput();
    this.closeCompletion();
  }

  closeCompletion() {
    this.completion = null;
    this.completions.hidden = true;
  }

  // -- evaluation --------------------------------------------------------------------------------

  async refresh() {
    if (this.inflight) {
      this.dirty = true;
      return;
    }
    this.inflight = true;
    this.root.dataset.state = "loading";
    try {
      do {
        this.dirty = false;
        await (this.kind === "table" ? this.loadTable() : this.loadPlot());
      } while (this.dirty);
    } finally {
      this.inflight = false;
    }
  }

  showError(err) {
    if (!err) {
      this.error.hidden = true;
      this.error.textContent = "";
      this.editor.classList.remove("invalid");
      this.root.dataset.state = "ready";
      return;
    }
    const b = err.body || {};
    let text = b.error || err.message || String(err);
    if (b.line && !/line \d+/.test(text.split("\n")[0])) text = text.replace(/^([^\n]*)/, `$1 (line ${b.line}, column ${b.column})`);
    this.error.textContent = text;
    this.error.hidden = false;
    this.editor.classList.add("invalid");
    this.root.dataset.state = "error";
  }

  stamp(r) {
    const t = new Date().toISOString().slice(11, 19);
    this.updated.textContent = `updated ${t} UTC · ${r && r.elapsed_ms !== undefined ? r.elapsed_ms.toFixed(0) + " ms" : ""}`;
    // a re-run's result: the live label goes, unless a live feed still follows this page (its
    // last push stays true, and it pushes again only on the next commit)
    if (!this.live.source) this.live.label.textContent = "";
  }

  async loadTable() {
    const expr = this.expr.trim();
    if (!expr) {
      this.result = null;
      this.headerKey = null;
      this.showError(null);
      this.scalar.hidden = true;
      this.table.hidden = false;
      this.table.parentElement.hidden = false;
      this.table.replaceChildren(h("tbody", {}, h("tr", {}, h("td", { class: "muted", text: "Type an expression above, or pick a table on the left." }))));
      this.pageInfo.textContent = "";
      this.prevBtn.disabled = this.nextBtn.disabled = true;
      this.renderGroupSelect({ group: null });
      this.live.stop();
      this.root.dataset.state = "empty";
      return;
    }
    let r;
    try {
      r = await evaluate(expr, this.offset, this.pageSize);
      if (r.kind !== "scalar" && r.total > 0 && r.offset >= r.total) {
        this.offset = Math.max(0, Math.floor((r.total - 1) / this.pageSize) * this.pageSize);
        r = await evaluate(expr, this.offset, this.pageSize);
      }
    } catch (err) {
      this.live.stop();
      if (expr === this.expr.trim()) this.showError(err);
      this.table.classList.add("stale");
      this.scalar.classList.add("stale");
      return;
    }
    if (expr !== this.expr.trim()) return; // the expression changed meanwhile: dirty reloads
    this.result = r;
    if (r.kind === "rows" && !X.describe(expr).group) this.baseColumns = r.columns;
    this.table.classList.remove("stale");
    this.scalar.classList.remove("stale");
    this.showError(null);
    this.renderTable(r);
    this.stamp(r);
    this.live.follow(expr, this.offset, this.pageSize);
  }

  showLive(r) {
    if (this.kind === "plot") return this.showLivePlot(r);
    if (this.kind !== "table" || r.expr !== this.expr.trim() || r.offset !== this.offset) return;
    // The first push repeats the page just evaluated: re-rendering it would close the cells
    // and groups the user opened meanwhile, so only a changed page is drawn again.
    const prev = this.result;
    const same = prev && prev.total === r.total && JSON.stringify(prev.rows) === JSON.stringify(r.rows);
    this.result = r;
    this.updated.textContent = ""; // one "updated" at a time: the live label says it
    if (!same) this.renderTable(r);
  }

  renderTable(r) {
    const desc = X.describe(this.expr);
    showDrift(this.table.parentElement, r); // a drift report also gets its drift view
    if (r.kind === "scalar") {
      this.scalar.hidden = false;
      this.scalar.textContent = typeof r.value === "object" && r.value !== null ? JSON.stringify(r.value, null, 2) : C.scalarText(r.value, r.type) ?? "null";
      this.table.replaceChildren();
      this.headerKey = null;
      this.table.hidden = true;
      this.table.parentElement.hidden = true;
      this.pageInfo.textContent = "1 value";
      this.prevBtn.disabled = this.nextBtn.disabled = true;
      this.renderGroupSelect(desc);
      return;
    }
    this.scalar.hidden = true;
    this.table.hidden = false;
    this.table.parentElement.hidden = false;
    const cols = r.columns;
    const sortable = r.kind === "rows";
    const key = JSON.stringify([r.kind, cols.map((c) => [c.name, c.type]), desc]);
    const active = document.activeElement;
    const keep =
      active && this.table.contains(active) && active.classList.contains("col-filter")
        ? { column: active.dataset.column, value: active.value, start: active.selectionStart, end: active.selectionEnd }
        : null;
    if (key !== this.headerKey) {
      this.headerKey = key;
      const head = h(
        "tr",
        { class: "headers" },
        cols.map((c) => {
          const sorted = desc.sort && desc.sort.column === c.name ? desc.sort.dir : null;
          return h(
            "th",
            {
              "data-column": c.name,
              title: sortable ? `${c.type} · click to sort` : c.type,
              class: sorted ? "sorted" : "",
              "aria-sort": sorted ? (sorted === "desc" ? "descending" : "ascending") : null,
              onclick: sortable ? () => this.setExpr(X.toggleSort(this.expr, c.name)) : null,
            },
            C.headerNodes(c),
            sorted ? h("span", { class: "sort-ind", text: sorted === "desc" ? "▼" : "▲" }) : null,
          );
        }),
      );
      const filters = sortable
        ? h(
            "tr",
            { class: "filters" },
            cols.map((c) => {
              const input = h("input", {
                class: "col-filter",
                type: "text",
                "data-column": c.name,
                "aria-label": `filter ${c.name}`,
                placeholder: X.isNumericType(c.type) ? "> 10" : X.isTimeType(c.type) ? "> 2024-05-01" : "= value",
                title: "a value, or: == != > >= < <= then a value, ~text for contains; empty clears",
                spellcheck: "false",
              });
              input.value = desc.filters[c.name] || "";
              input.addEventListener("change", () => this.setExpr(X.setFilter(this.expr, c.name, input.value, c.type)));
              return h("th", {}, input);
            }),
          )
        : null;
      this.thead = h("thead", {}, head, filters);
      this.tbody = h("tbody");
      this.table.replaceChildren(this.thead, this.tbody);
      if (keep) {
        // keep typing where you were: a live update must not steal the filter box
        const input = [...this.thead.querySelectorAll("input.col-filter")].find((i) => i.dataset.column === keep.column);
        if (input) {
          input.value = keep.value;
          input.focus();
          input.setSelectionRange(keep.start, keep.end);
        }
      }
    }
    const rows = r.rows.map((row, i) => this.renderRow(r, row, cols, desc, i));
    if (!rows.length) rows.push(h("tr", { class: "no-rows" }, h("td", { colspan: Math.max(1, cols.length), class: "muted", text: "no rows" })));
    this.tbody.replaceChildren(...rows);
    const first = r.returned ? r.offset + 1 : 0; // the total may be unknown ("?") on a live page
    const last = r.offset + r.returned;
    this.pageInfo.textContent = `rows ${fmtInt(first)}–${fmtInt(last)} of ${fmtInt(r.total)}`;
    this.prevBtn.disabled = r.offset <= 0;
    this.nextBtn.disabled = r.next_offset === null || r.next_offset === undefined;
    this.renderGroupSelect(desc);
    if (this.linkControls) this.linkControls.refresh();
  }

  renderRow(r, row, cols, desc, i) {
    const tr = h("tr", { "data-row": r.offset + i });
    if (this.selected === r.offset + i) tr.classList.add("selected");
    tr.addEventListener("click", (e) => {
      if (e.target.closest("details, button, a")) return; // opening a nested cell is not a selection
      this.selected = r.offset + i;
      this.tbody.querySelectorAll("tr.selected").forEach((x) => x.classList.remove("selected"));
      tr.classList.add("selected");
      L.select(this, row, r, state.panels);
    });
    for (const c of cols) {
      if (r.kind === "groups" && c.name === "rows") {
        tr.appendChild(C.groupCell(c, row.count, async () => ({ rows: row.rows, columns: null, total: row.count })));
      } else if (r.kind === "rows" && desc.group && ["count", "n"].includes(c.name) && typeof row[c.name] === "number" && desc.group in row) {
        // a UI group: its count opens the group's first rows, from the ungrouped expression
        const only = X.setFilter(X.ungrouped(this.expr), desc.group, C.equalsText(row[desc.group]), (this.baseColumns || []).find((b) => b.name === desc.group)?.type);
        tr.appendChild(
          C.groupCell(c, row[c.name], async () => {
            const g = await evaluate(only, 0, 20);
            return { rows: g.rows, columns: g.columns, total: g.total };
          }, () => this.setExpr(only)),
        );
      } else tr.appendChild(C.cellNode(row[c.name], c));
    }
    return tr;
  }

  renderGroupSelect(desc) {
    const cols = this.baseColumns || [];
    const current = desc.group || "";
    const names = cols.map((c) => c.name);
    if (current && !names.includes(current)) names.push(current);
    const sig = JSON.stringify([names, current]);
    if (this.groupSig === sig) return;
    this.groupSig = sig;
    this.groupSelect.replaceChildren(h("option", { value: "", text: "(none)" }), ...names.map((n) => h("option", { value: n, text: n })));
    this.groupSelect.value = current;
  }

  async onGroup() {
    const column = this.groupSelect.value || null;
    let cols = this.baseColumns;
    const base = X.ungrouped(this.expr);
    if (!cols || base !== this.expr.trim()) {
      try {
        cols = (await evaluate(base, 0, 0)).columns || [];
      } catch (e) {
        cols = cols || [];
      }
    }
    this.setExpr(X.setGroup(this.expr, column, cols));
  }

  page(direction) {
    this.offset = Math.max(0, this.offset + direction * this.pageSize);
    this.refresh();
  }

  setPageSize(n) {
    this.pageSize = n;
    this.offset = 0;
    this.refresh();
  }

  // -- plots -------------------------------------------------------------------------------------

  setPlot(change) {
    Object.assign(this.plot, change);
    if ("type" in change) {
      this.plot.x = null;
      this.plot.y = null;
      this.plot.color = null;
    }
    this.refresh();
  }

  async loadPlot() {
    await P.loadPlot(this, evaluate);
    if (this.linkControls) this.linkControls.refresh();
    // the derived (aggregating) expression is then followed live: the server keeps its watch
    const ctx = this.plotLive;
    if (this.kind === "plot" && ctx && ctx.follow) this.live.follow(ctx.derived, ctx.offset, ctx.limit);
    else this.live.stop();
  }

  // A pushed page of the plot's derived expression: redraw it without a re-run, unless the data's
  // time range outgrew the bin unit (a re-plan picks a coarser one) or raw points passed the limit.
  showLivePlot(r) {
    const ctx = this.plotLive;
    if (!ctx || r.expr !== ctx.derived || r.offset !== ctx.offset || this.inflight) return;
    this.updated.textContent = ""; // one "updated" at a time: the live label says it
    if (!ctx.follow || (!ctx.bin && this.plot.type === "line" && r.total > ctx.limit)) {
      this.live.stop();
      this.refresh();
      return;
    }
    const { span, rebin } = pushedSpan(ctx, r.rows || [], TR.rangeOf(this.expr), Date.now());
    if (rebin) {
      this.live.stop();
      this.refresh();
      return;
    }
    const prev = this.plotResult;
    const same = prev && prev.total === r.total && JSON.stringify(prev.rows) === JSON.stringify(r.rows) && String(span) === String(ctx.span);
    ctx.span = span;
    if (!same) P.showPlotResult(this, r, ctx);
  }

  reads(tableName) {
    return X.tablesOf(this.expr).some((n) => X.sameTable(n, tableName));
  }
}

// -- board ---------------------------------------------------------------------------------------

function setPanels(specs, links) {
  state.panels.forEach((p) => p.live.stop());
  G.clearGrid();
  state.panels = [];
  const ids = specs.map((s) => Number(String(s.id || "").replace(/^p/, "")) || 0);
  state.nextId = Math.max(0, ...ids) + 1;
  for (const s of specs) {
    const p = new Panel(s);
    state.panels.push(p);
    G.addToGrid(p, p.layout);
  }
  L.setLinks(links);
  TR.adoptRange(state.panels.map((p) => p.expr));
  state.panels.forEach((p) => p.refresh());
}

// The board's time range is a filter in every panel's expression that reads a timestamp column.
function applyTimeRange(range) {
  for (const p of state.panels) {
    const hasTime = (p.baseColumns || []).some((c) => c.name === "timestamp") || TR.rangeOf(p.expr);
    if (hasTime) p.setExpr(TR.applyRange(p.expr, range));
  }
}

function duplicatePanel(panel) {
  const spec = Object.assign(panel.toJSON(), { id: null, title: `${panel.title} copy`, layout: null });
  const copy = new Panel(spec);
  const at = G.layoutOf(panel);
  state.panels.push(copy);
  G.addToGrid(copy, at ? { w: at.w, h: at.h } : null);
  copy.refresh();
}

function addPanel(kind) {
  const source = state.panels.find((p) => p.expr.trim());
  let expr = source ? source.expr : "";
  if (kind === "plot" && source) expr = X.ungrouped(source.expr);
  const panel = new Panel({ kind, expr });
  state.panels.push(panel);
  G.addToGrid(panel, { w: G.COLUMNS / 2, h: kind === "plot" ? 7 : 8 });
  panel.refresh();
  panel.editor.focus();
}

function removePanel(panel) {
  panel.live.stop();
  state.panels = state.panels.filter((p) => p !== panel);
  L.removeLinksOf(panel.id);
  G.removeFromGrid(panel);
}

function setTitle(text) {
  document.getElementById("route-title").textContent = text;
  document.title = text ? `${text} · weave_lite` : "weave_lite panels";
}

function boardStatus(text, isError) {
  const el = document.getElementById("board-status");
  el.textContent = text;
  el.classList.toggle("error", !!isError);
}

async function saveBoard() {
  const input = document.getElementById("board-name");
  const name = input.value.trim();
  if (!NAME_RE.test(name) || name === "." || name === "..") {
    boardStatus("a board name is 1-128 letters, digits, '_', '.' or '-'", true);
    return;
  }
  try {
    await api(`/api/boards/${encodeURIComponent(name)}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ panels: state.panels.map((p) => p.toJSON()), links: L.linksJSON(state.panels.map((p) => p.id)) }),
    });
  } catch (err) {
    boardStatus(`not saved: ${err.message}`, true);
    return;
  }
  state.boardName = name;
  boardStatus("saved");
  const hash = `#/board/${encodeURIComponent(name)}`;
  if (location.hash !== hash) {
    state.skipHash = hash;
    location.hash = hash;
  }
  setTitle(`board ${name}`);
  loadBoards();
}

// -- sidebar -------------------------------------------------------------------------------------

async function loadTables() {
  try {
    const body = await api("/api/tables");
    state.root = body.root;
    state.tables = body.tables;
  } catch (err) {
    state.tables = [];
  }
  renderTables();
  document.getElementById("root-path").textContent = state.root ? `root: ${state.root}` : "";
}

function renderTables() {
  const list = document.getElementById("table-list");
  if (!state.tables.length) {
    list.replaceChildren(h("li", { class: "muted", text: "no tables yet" }));
    return;
  }
  const current = decodeURIComponent(location.hash);
  list.replaceChildren(
    ...state.tables.map((t) =>
      h(
        "li",
        { "data-table": t.name },
        h("a", { href: `#/table/${t.name}`, class: `table-link${current === `#/table/${t.name}` ? " active" : ""}`, text: t.name }),
        h("span", { class: "row-count", title: `version ${t.version}`, text: fmtInt(t.num_rows) }),
      ),
    ),
  );
}

async function loadBoards() {
  const list = document.getElementById("board-list");
  try {
    state.boards = (await api("/api/boards")).boards;
  } catch (err) {
    state.boards = [];
  }
  if (!state.boards.length) {
    list.replaceChildren(h("li", { class: "muted", text: "no boards saved" }));
    return;
  }
  list.replaceChildren(...state.boards.map((b) => h("li", { "data-board": b.name }, h("a", { href: `#/board/${encodeURIComponent(b.name)}`, class: "board-link", text: b.name }), h("span", { class: "row-count", text: `${b.panels ?? "?"} panels` }))));
}

async function loadOps() {
  try {
    state.ops = (await api("/api/ops")).ops;
  } catch (err) {
    state.ops = [];
  }
}

// -- live updates --------------------------------------------------------------------------------

function connectEvents() {
  const status = document.getElementById("live-status");
  const es = new EventSource("/api/events");
  state.events = es;
  es.addEventListener("open", () => {
    status.textContent = "● live";
    status.classList.add("on");
  });
  es.addEventListener("error", () => {
    status.textContent = "○ reconnecting";
    status.classList.remove("on");
  });
  es.addEventListener("hello", () => {
    // Commits between a panel's first evaluation and this subscription would be missed.
    state.panels.forEach((p) => p.refresh());
    loadTables();
  });
  es.addEventListener("commit", (e) => {
    let ev;
    try {
      ev = JSON.parse(e.data);
    } catch (err) {
      return;
    }
    const known = state.tables.find((t) => t.name === ev.table);
    if (known) {
      known.num_rows = ev.num_rows;
      known.version = ev.version;
      renderTables();
    } else {
      loadTables();
    }
    state.schemas.delete(ev.table);
    for (const p of state.panels) if (p.reads(ev.table) && !p.live.holds()) p.refresh();
  });
}

// -- routes --------------------------------------------------------------------------------------

async function route() {
  if (state.skipHash && location.hash === state.skipHash) {
    state.skipHash = null;
    return;
  }
  state.skipHash = null;
  boardStatus("");
  const path = location.hash.replace(/^#/, "");
  let m;
  if ((m = /^\/table\/(.+)$/.exec(path))) {
    const name = decodeURIComponent(m[1]);
    const expr = `stream_table(${X.quote(name)}).rows`;
    state.boardName = null;
    document.getElementById("board-name").value = "";
    setTitle(`table ${name}`);
    setPanels([
      { kind: "table", expr },
      { kind: "plot", expr, plot: { type: "line" } },
    ]);
  } else if ((m = /^\/board\/(.+)$/.exec(path))) {
    const name = decodeURIComponent(m[1]);
    setTitle(`board ${name}`);
    document.getElementById("board-name").value = name;
    let board;
    try {
      board = await api(`/api/boards/${encodeURIComponent(name)}`);
    } catch (err) {
      boardStatus(err.message, true);
      setPanels([{ kind: "table", expr: "" }]);
      return;
    }
    state.boardName = name;
    setPanels(board.panels && board.panels.length ? board.panels : [{ kind: "table", expr: "" }], board.links);
  } else {
    state.boardName = null;
    setTitle("");
    setPanels([{ kind: "table", expr: "" }]);
  }
  const shown = /^\/table\/(.+)$/.exec(path); // a table's page lists its profile windows' reports
  showProfileReports(document.getElementById("panels"), shown ? decodeURIComponent(shown[1]) : null);
  renderTables();
}

async function main() {
  G.initGrid(document.getElementById("panels"), (id) => {
    const p = state.panels.find((x) => x.id === id);
    if (p && p.kind === "plot") p.refresh();
  });
  const tz = document.getElementById("tz-switch");
  tz.value = C.prefs.tz;
  tz.addEventListener("change", () => {
    C.setTimeZone(tz.value);
    for (const p of state.panels) if (p.kind === "table" && p.result) p.renderTable(p.result);
    else if (p.kind === "plot") p.refresh(); // time axes follow the switch
    TR.showZone();
  });
  document.getElementById("save-board").addEventListener("click", saveBoard);
  document.getElementById("board-name").addEventListener("keydown", (e) => e.key === "Enter" && saveBoard());
  document.getElementById("add-table-panel").addEventListener("click", () => addPanel("table"));
  document.getElementById("add-plot-panel").addEventListener("click", () => addPanel("plot"));
  window.addEventListener("hashchange", route);
  TR.initTimeRange(document.getElementById("time-range"));
  TR.onRangeChange(applyTimeRange);
  // "last N minutes" slides with the clock even when no rows arrive
  setInterval(() => TR.getRange().kind === "last" && state.panels.forEach((p) => TR.rangeOf(p.expr) && p.refresh()), 15000);
  await Promise.all([loadTables(), loadOps(), loadBoards()]);
  await route();
  connectEvents();
}

main();
