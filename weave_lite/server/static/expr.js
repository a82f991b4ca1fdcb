// Editing panel expressions from the UI.
//
// A table panel is always a view of its expression: clicking a header, typing in a column's
// filter box or choosing a group-by column rewrites the expression text, which is then
// evaluated. The rewrites work on the expression's top-level chain of calls
// (base.op1(...).op2(...)...) and recognise the calls they generate themselves:
//
//   .filter(row => row["col"] == "value")        one per column (also != > >= < <=)
//   .filter(row => row["col"].contains("text"))  typed as ~text
//   .sort(row => [row["col"]], ["desc"])          click: desc, click again: asc, again: none
//   .groupby(row => row["col"]).map(g => {...})   group by a column, with count and averages
//
// Anything else the user wrote is kept as it is.

const STR = String.raw`"(?:[^"\\]|\\.)*"`;
const LITERAL = String.raw`(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|${STR}|true|false|null|Date\(\s*${STR}\s*\))`;
const SORT_RE = new RegExp(String.raw`^\.sort\(\s*row\s*=>\s*\[\s*row\[(${STR})\]\s*\]\s*,\s*\[\s*"(asc|desc)"\s*\]\s*\)$`);
const FILTER_RE = new RegExp(String.raw`^\.filter\(\s*row\s*=>\s*row\[(${STR})\]\s*(==|!=|>=|<=|>|<)\s*(${LITERAL})\s*\)$`);
const CONTAINS_RE = new RegExp(String.raw`^\.filter\(\s*row\s*=>\s*row\[(${STR})\]\.contains\(\s*(${STR})\s*\)\s*\)$`);
const GROUP_RE = new RegExp(String.raw`^\.groupby\(\s*row\s*=>\s*row\[(${STR})\]\s*\)$`);
const GROUP_MAP_RE = /^\.map\(\s*g\s*=>\s*\{[\s\S]*\}\s*\)$/;

export function quote(s) {
  return JSON.stringify(String(s));
}

function unquote(lit) {
  try {
    return JSON.parse(lit);
  } catch (e) {
    return lit.slice(1, -1);
  }
}

function skipString(s, i) {
  const q = s[i];
  i++;
  while (i < s.length && s[i] !== q) {
    if (s[i] === "\\") i++;
    i++;
  }
  return i + 1;
}

// Split `src` into {base, segs, simple}: `simple` is false when the top level is not a plain
// chain of calls (a binary operator, a lambda...); then new calls go after `(src)`.
export function splitChain(src) {
  const s = src.replace(/\s+$/, "");
  const cuts = [];
  let depth = 0;
  let simple = true;
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '"' || c === "'") {
      i = skipString(s, i);
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (depth === 0) {
      if (c === "." && /[A-Za-z_]/.test(s[i + 1] || "")) {
        cuts.push(i);
      } else if ("+-*/%<>=!?&|:,".includes(c)) {
        simple = false;
      } else if (/[A-Za-z_]/.test(c) && !/[\w.]/.test(s[i - 1] || "")) {
        const word = /^[A-Za-z_]\w*/.exec(s.slice(i))[0];
        if ((word === "and" || word === "or") && i > 0) simple = false;
        i += word.length;
        continue;
      }
    }
    i++;
  }
  if (!simple || !cuts.length) return { base: s, segs: [], simple };
  const base = s.slice(0, cuts[0]);
  const segs = cuts.map((c, k) => s.slice(c, k + 1 < cuts.length ? cuts[k + 1] : s.length));
  return { base, segs, simple };
}

function join(chain) {
  const base = chain.simple ? chain.base : `(${chain.base})`;
  return base + chain.segs.join("");
}

// What a segment is, when the UI made it.
export function parseSeg(seg) {
  const t = seg.trim();
  let m = SORT_RE.exec(t);
  if (m) return { kind: "sort", column: unquote(m[1]), dir: m[2] };
  m = FILTER_RE.exec(t);
  if (m) return { kind: "filter", column: unquote(m[1]), op: m[2], value: m[3] };
  m = CONTAINS_RE.exec(t);
  if (m) return { kind: "filter", column: unquote(m[1]), op: "contains", value: m[2] };
  m = GROUP_RE.exec(t);
  if (m) return { kind: "groupby", column: unquote(m[1]) };
  if (GROUP_MAP_RE.test(t)) return { kind: "groupmap" };
  return null;
}

// The chain's structure: where the trailing filters/sort start, and a trailing UI group.
function analyse(chain) {
  const infos = chain.segs.map(parseSeg);
  let r = infos.length;
  while (r > 0 && infos[r - 1] && (infos[r - 1].kind === "filter" || infos[r - 1].kind === "sort")) r--;
  let group = null;
  if (r >= 2 && infos[r - 1] && infos[r - 1].kind === "groupmap" && infos[r - 2] && infos[r - 2].kind === "groupby") {
    group = { index: r - 2, column: infos[r - 2].column };
  }
  return { infos, regionStart: r, group };
}

// The UI state an expression shows: {sort: {column, dir} | null, filters: {col: text}, group}.
export function describe(expr) {
  const chain = splitChain(expr || "");
  const { infos, regionStart, group } = analyse(chain);
  const out = { sort: null, filters: {}, group: group ? group.column : null };
  for (let k = regionStart; k < infos.length; k++) {
    const info = infos[k];
    if (info.kind === "sort") out.sort = { column: info.column, dir: info.dir };
    if (info.kind === "filter") out.filters[info.column] = filterText(info);
  }
  return out;
}

function filterText(info) {
  let v = info.value;
  if (info.op === "contains") return "~" + unquote(v);
  const date = /^Date\(\s*("(?:[^"\\]|\\.)*")\s*\)$/.exec(v);
  if (date) v = unquote(date[1]);
  else if (v.startsWith('"')) v = unquote(v);
  return info.op === "==" ? v : `${info.op} ${v}`;
}

// Click on a column header: sort descending, then ascending, then not at all.
export function toggleSort(expr, column) {
  const chain = splitChain(expr);
  const { infos, regionStart } = analyse(chain);
  const seg = (dir) => `.sort(row => [row[${quote(column)}]], [${quote(dir)}])`;
  for (let k = regionStart; k < infos.length; k++) {
    const info = infos[k];
    if (info.kind !== "sort") continue;
    if (info.column !== column) chain.segs[k] = seg("desc");
    else if (info.dir === "desc") chain.segs[k] = seg("asc");
    else chain.segs.splice(k, 1);
    return join(chain);
  }
  chain.segs.push(seg("desc"));
  return join(chain);
}

const NUMBER_RE = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

export function isNumericType(type) {
  return /(^|<|, )(int|float)(>|,|$)/.test(type || "") && !/^(list|dict|group)/.test(type || "");
}

export function isTimeType(type) {
  return /(^|<|, )timestamp(>|,|$)/.test(type || "") && !/^(list|dict|group)/.test(type || "");
}

// The literal and operator a filter box's text stands for: `m1`, `> 10`, `!= null`, `~text`.
// `== null` / `!= null` keep the rows whose value is (is not) null: `==` and `!=` are null-safe
// (SPEC section 3), while `> 10` drops null values.
export function filterCall(column, text, type) {
  const t = text.trim();
  const col = `row[${quote(column)}]`;
  if (t.startsWith("~")) return `.filter(row => ${col}.contains(${quote(t.slice(1).trim())}))`;
  const m = /^(==|!=|>=|<=|>|<|=)?\s*([\s\S]*)$/.exec(t);
  let op = m[1] || "==";
  if (op === "=") op = "==";
  let raw = m[2].trim();
  let lit;
  if (raw === "null" || raw === "true" || raw === "false") lit = raw;
  else if (/^"(?:[^"\\]|\\.)*"$/.test(raw)) lit = raw;
  else if (/^'[^']*'$/.test(raw)) lit = quote(raw.slice(1, -1));
  else if (isTimeType(type)) lit = `Date(${quote(raw)})`;
  else if (NUMBER_RE.test(raw) && (isNumericType(type) || !type)) lit = raw;
  else lit = quote(raw);
  return `.filter(row => ${col} ${op} ${lit})`;
}

// Set (or clear, with empty text) the filter on `column`.
export function setFilter(expr, column, text, type) {
  const chain = splitChain(expr);
  const { infos, regionStart } = analyse(chain);
  const empty = !text || !text.trim();
  for (let k = regionStart; k < infos.length; k++) {
    const info = infos[k];
    if (info.kind === "filter" && info.column === column) {
      if (empty) chain.segs.splice(k, 1);
      else chain.segs[k] = filterCall(column, text, type);
      return join(chain);
    }
  }
  if (empty) return expr;
  let at = chain.segs.length;
  for (let k = regionStart; k < infos.length; k++) {
    if (infos[k].kind === "sort") {
      at = k;
      break;
    }
  }
  chain.segs.splice(at, 0, filterCall(column, text, type));
  return join(chain);
}

// The expression without a trailing UI group (and the filters/sort that came after it).
export function ungrouped(expr) {
  const chain = splitChain(expr);
  const { group } = analyse(chain);
  if (!group) return expr;
  chain.segs.splice(group.index);
  return join(chain);
}

export function groupCall(column, columns) {
  const keyName = column;
  const parts = [`${quote(keyName)}: g.groupkey`];
  const countName = column === "count" ? "n" : "count";
  parts.push(`${quote(countName)}: g.count`);
  let added = 0;
  for (const c of columns || []) {
    if (added >= 4) break;
    if (c.name === column || c.name.startsWith("_") || !isNumericType(c.type)) continue;
    parts.push(`${quote(c.name + "_avg")}: g[${quote(c.name)}].avg`);
    added++;
  }
  return `.groupby(row => row[${quote(column)}]).map(g => {${parts.join(", ")}})`;
}

// Group by `column` (or stop grouping when null); `columns` are the ungrouped result's columns.
export function setGroup(expr, column, columns) {
  const base = ungrouped(expr);
  if (!column) return base;
  const chain = splitChain(base);
  chain.segs.push(groupCall(column, columns));
  return join(chain);
}

// Plot expressions: what a plot panel evaluates, derived from its source expression.
export function plotExpr(src, plot) {
  const s = splitChain(src).simple ? src.trim() : `(${src.trim()})`;
  const x = plot.x ? `row[${quote(plot.x)}]` : null;
  const y = plot.y ? `row[${quote(plot.y)}]` : null;
  if (plot.type === "histogram") return y ? `${s}.map(row => ${y})` : null;
  if (plot.type === "bar") {
    if (!x) return null;
    const value = plot.y && plot.y !== "count" ? `g[${quote(plot.y)}].avg` : "g.count";
    return `${s}.groupby(row => ${x}).map(g => {"x": g.groupkey, "y": ${value}})`;
  }
  if (!x || !y) return null;
  return `${s}.map(row => {"x": ${x}, "y": ${y}})`;
}

// Tables an expression reads: the names inside stream_table("...").
export function tablesOf(expr) {
  const out = [];
  const re = /stream_table\(\s*("(?:[^"\\]|\\.)*"|'[^']*')\s*\)/g;
  let m;
  while ((m = re.exec(expr || ""))) {
    const lit = m[1];
    out.push(lit.startsWith('"') ? unquote(lit) : lit.slice(1, -1));
  }
  return out;
}

// Does a table named in an expression (`t`, `p/t` or `e/p/t`) refer to the full name `full`?
export function sameTable(named, full) {
  return named === full || full.endsWith("/" + named);
}
