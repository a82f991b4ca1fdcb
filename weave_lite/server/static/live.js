// Live panels (tables and plots): the server keeps one live query per panel page and pushes each new result
// (GET /api/live, server-sent events), so a commit costs the server the new rows, not a re-run
// of the panel's query. Each panel shows when it was last updated (and the path the server's
// update took) and has a pause button that stops its updates.

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

export class LiveFeed {
  // `render(body)` shows a pushed page (the same JSON as /api/evaluate, plus `path`).
  constructor(render) {
    this.render = render;
    this.paused = false;
    this.source = null;
    this.key = null;
    this.pushes = 0;
    this.label = el("span", { class: "live-updated", title: "last live update" });
    this.pauseBtn = el("button", { type: "button", class: "live-pause", "aria-pressed": "false", title: "pause live updates" }, "Pause");
    this.pauseBtn.addEventListener("click", () => this.toggle());
  }

  // Whether commits need no re-run by the page: updates are pushed, or paused.
  holds() {
    return this.paused || this.source !== null;
  }

  follow(expr, offset, limit) {
    const key = new URLSearchParams({ expr, offset: String(offset), limit: String(limit) }).toString();
    if (key === this.key && this.source) return;
    this.stop();
    this.key = key;
    if (this.paused) return;
    const es = new EventSource(`/api/live?${key}`);
    this.source = es;
    es.addEventListener("result", (e) => {
      if (this.paused || this.source !== es) return;
      let body;
      try {
        body = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      this.pushes += 1;
      this.render(body);
      const t = body.updated ? new Date(body.updated) : new Date();
      this.label.textContent = `updated ${t.toISOString().slice(11, 19)}`;
      this.label.dataset.path = body.path || "";
      this.label.dataset.pushes = String(this.pushes);
      this.label.title = `last live update (${body.path || "?"} path, ${body.rows_read ?? "?"} rows read)`;
    });
    es.addEventListener("error", () => {
      // A refused expression (a 4xx, not a stream) or a lost server: fall back to re-runs.
      if (es.readyState === EventSource.CLOSED && this.source === es) this.source = null;
    });
  }

  stop() {
    if (this.source) this.source.close();
    this.source = null;
  }

  toggle() {
    this.paused = !this.paused;
    this.pauseBtn.textContent = this.paused ? "Resume" : "Pause";
    this.pauseBtn.setAttribute("aria-pressed", String(this.paused));
    this.label.classList.toggle("paused", this.paused);
    if (this.paused) {
      this.stop();
      this.label.textContent = `paused ${new Date().toISOString().slice(11, 19)}`;
    } else if (this.key) {
      const params = new URLSearchParams(this.key);
      this.key = null;
      this.follow(params.get("expr"), Number(params.get("offset")), Number(params.get("limit")));
    }
  }
}

// A live push of a time plot: the x range it should show, and whether its bin unit no longer
// fits (the data's range grew past what the unit was chosen for: a re-plan picks a coarser one).
// `ctx` is the plot's context from plots.js (span, bin, unitFor); `range` the board's time range
// written in the panel's expression (timerange.js rangeOf), `now` the clock in ms.
export function pushedSpan(ctx, rows, range, now) {
  if (!ctx.isTime || !ctx.bin) return { span: ctx.span, rebin: false };
  if (range && range.kind === "last") return { span: [now - range.ms, now], rebin: false }; // slides
  if (range && range.kind === "abs" && range.to !== null) return { span: ctx.span, rebin: false }; // fixed
  const xs = rows.map((r) => Date.parse(r.x)).filter(Number.isFinite);
  if (!xs.length) return { span: ctx.span, rebin: false };
  // New rows add bins at the end: the range grows to the right. (Its left end stays: the first
  // bin starts before the data's first row, which the drawn range already begins at.)
  const hi = Math.max(...xs);
  const span = ctx.span ? [ctx.span[0], Math.max(ctx.span[1], hi)] : [Math.min(...xs), hi];
  return { span, rebin: ctx.unitFor(span) !== ctx.bin };
}
