// mbert-lab serve: the front end. Plain JS, no build step, no external requests.
"use strict";

const $ = (sel) => document.querySelector(sel);
const SVGNS = "http://www.w3.org/2000/svg";
let STATUS = null;
let INFLIGHT = 0;  // requests running: the progress bar shows while any is

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of kids) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmt(x, d = 4) {
  return typeof x === "number" ? (Number.isInteger(x) ? String(x) : x.toFixed(d)) : (x === null ? "—" : String(x));
}

// ------------------------------------------------------------------ progress and errors

function showError(msg) {
  const e = $("#error");
  e.textContent = msg || "";
  e.hidden = !msg;
}

// GET a JSON endpoint with a progress bar; a 503 "loading" waits for the model and retries.
async function api(url, what) {
  const prog = $("#progress"), text = $("#progress-text");
  const t0 = performance.now();
  let note = what || "running";
  const tick = () => { text.textContent = `${note}… ${((performance.now() - t0) / 1000).toFixed(1)} s`; };
  INFLIGHT += 1;
  prog.hidden = false;
  tick();
  const timer = setInterval(tick, 100);
  showError("");
  try {
    for (;;) {
      const r = await fetch(url);
      const body = await r.json().catch(() => ({error: `HTTP ${r.status}`}));
      if (r.status === 503 && body.state === "loading") {
        note = "the model is loading; the query runs when it is ready";
        await new Promise((res) => setTimeout(res, 1000));
        refreshStatus();
        continue;
      }
      if (!r.ok) throw new Error(`${r.status}: ${body.error || r.statusText}`);
      return body;
    }
  } finally {
    clearInterval(timer);
    INFLIGHT -= 1;
    if (!INFLIGHT) prog.hidden = true;
  }
}

async function refreshStatus() {
  try {
    const s = await (await fetch("/api/status")).json();
    STATUS = s;
    const m = s.model, i = s.index;
    const st = $("#status");
    st.className = `status ${m.state}`;
    let t = `model ${m.name}: ${m.state}`;
    if (m.state === "failed") t += ` (${m.error})`;
    if (i) t += ` · index ${i.ntotal} ${i.unit} vectors, layer ${i.layer}`;
    if (s.busy) t += ` · ${s.busy} running`;
    st.textContent = t;
    fillIndexOptions(s);
    if (m.state === "loading") setTimeout(refreshStatus, 1500);
  } catch (e) {
    $("#status").textContent = "server unreachable";
  }
}

function fillIndexOptions(s) {
  const i = s.index;
  const sel = $("#nb-layer");
  if (i && sel.options.length === 1) sel.append(el("option", {value: String(i.layer)}, `${i.layer}`));
  const dl = $("#nb-langs");
  if (i && i.languages.length && !dl.children.length) for (const lg of i.languages) dl.append(el("option", {value: lg}));
}

// ------------------------------------------------------------------ routing

let LAST_ROUTE = null;
const GEN = {neighbours: 0, align: 0, results: 0};  // newer requests win: stale answers are dropped

function route() {
  if (location.hash === LAST_ROUTE) return;  // following a link fires both popstate and hashchange
  LAST_ROUTE = location.hash;
  const [name, query] = (location.hash.slice(1) || "neighbours").split("?");
  const params = new URLSearchParams(query || "");
  for (const p of ["neighbours", "align", "results"]) {
    $(`#page-${p}`).hidden = p !== name;
    $(`#tab-${p}`).classList.toggle("active", p === name);
  }
  showError("");
  if (name === "neighbours" && (params.has("q") || params.has("word"))) loadNeighbours(params);
  if (name === "align") loadAlignPage(params);
  if (name === "results") openFolder(params.get("path") || "");
}

function setHash(page, params) {
  const h = `#${page}?${params.toString()}`;
  if (location.hash !== h) history.pushState(null, "", h);
  LAST_ROUTE = location.hash;
}

// ------------------------------------------------------------------ neighbours

function neighbourParams() {
  const p = new URLSearchParams();
  for (const k of ["q", "word", "lang", "to", "k", "layer"]) {
    const v = $(`#nb-${k}`).value.trim();
    if (v) p.set(k, v);
  }
  return p;
}

async function loadNeighbours(params) {
  for (const k of ["q", "word", "lang", "to", "k", "layer"]) if (params.has(k)) $(`#nb-${k}`).value = params.get(k);
  $("#nb-count").textContent = $("#nb-q").value.length;
  const out = $("#nb-results");
  out.replaceChildren();
  const gen = ++GEN.neighbours;
  try {
    const d = await api(`/api/neighbours?${params}`, "searching");
    if (gen !== GEN.neighbours) return;
    $("#nb-info").textContent = `${d.query} — layer ${d.layer}, ${d.unit} index, ${d.seconds.toFixed(3)} s; ${d.margin}`;
    for (const g of d.results) {
      const tbl = el("table", {class: "hits", "data-lang": g.lang},
        el("thead", {}, el("tr", {}, ...["rank", "lang", "score", "margin", "id", "text"].map((h) => el("th", {}, h)))));
      const tb = el("tbody");
      for (const h of g.hits) {
        tb.append(el("tr", {class: "hit", "data-lang": h.lang},
          el("td", {}, h.rank), el("td", {}, h.lang), el("td", {class: "num"}, fmt(h.score)),
          el("td", {class: "num"}, fmt(h.margin, 3)), el("td", {class: "sid"}, h.sid), el("td", {class: "text"}, h.text)));
      }
      tbl.append(tb);
      out.append(el("h3", {}, g.lang === "*" ? "all languages" : `→ ${g.lang}`), tbl);
    }
    const link = $("#nb-link");
    link.href = `#neighbours?${params}`;
    link.hidden = false;
  } catch (e) {
    showError(e.message);
    $("#nb-info").textContent = "";
  }
}

// ------------------------------------------------------------------ alignment

async function fillEmbedded() {
  const sel = $("#al-emb");
  if (sel.options.length > 1) return;
  try {
    const r = await fetch("/api/embedded");
    if (!r.ok) { sel.disabled = true; $("#al-emb-load").disabled = true; return; }
    for (const x of (await r.json()).languages) sel.append(el("option", {value: x.lang}, `${x.lang} (${x.pairs} pairs)`));
  } catch (e) { sel.disabled = true; }
}

// an embedded-corpus pair fills the pasted fields (raw text: words from the tokenizer)
async function loadEmbedded() {
  const lang = $("#al-emb").value;
  if (!lang) return;
  try {
    const d = await api(`/api/embedded/${encodeURIComponent(lang)}?pair=${encodeURIComponent($("#al-emb-pair").value)}`, "loading the pair");
    $("#al-gold").value = ""; syncGold();
    $("#al-src").value = d.src; $("#al-tgt").value = d.tgt; $("#al-links").value = ""; $("#al-input").value = "raw";
  } catch (e) { showError(e.message); }
}

async function fillGold() {
  fillEmbedded();
  const sel = $("#al-gold");
  if (sel.options.length > 1) return;
  try {
    const d = await (await fetch("/api/gold")).json();
    for (const s of d.sets || []) sel.append(el("option", {value: s.name}, `${s.name} (${s.pairs} pairs)`));
  } catch (e) { /* no gold sets: paste pairs */ }
}

function alignParams() {
  const p = new URLSearchParams();
  const gold = $("#al-gold").value;
  if (gold) { p.set("gold", gold); p.set("pair", $("#al-pair").value); } else {
    p.set("src", $("#al-src").value); p.set("tgt", $("#al-tgt").value);
    if ($("#al-links").value.trim()) p.set("links", $("#al-links").value.trim());
  }
  const ms = [...document.querySelectorAll("#al-form input[name=m]:checked")].map((x) => x.value);
  p.set("methods", ms.join(","));
  for (const k of ["layer", "level", "input"]) p.set(k, $(`#al-${k}`).value);
  return p;
}

async function loadAlignPage(params) {
  await fillGold();
  for (const k of ["gold", "pair", "src", "tgt", "links", "layer", "level", "input"]) if (params.has(k)) $(`#al-${k}`).value = params.get(k);
  if (params.has("methods")) {
    const want = params.get("methods").split(",");
    for (const c of document.querySelectorAll("#al-form input[name=m]")) c.checked = want.includes(c.value);
  }
  syncGold();
  if (params.has("gold") || params.has("src")) runAlign(params);
}

function syncGold() {
  const g = !!$("#al-gold").value;
  $("#al-src").disabled = g; $("#al-tgt").disabled = g; $("#al-links").disabled = g; $("#al-pair").disabled = !g;
}

async function runAlign(params) {
  const out = $("#al-out");
  out.replaceChildren();
  const gen = ++GEN.align;
  try {
    const d = await api(`/api/align?${params}`, "aligning");
    if (gen !== GEN.align) return;
    if (d.gold) { $("#al-src").value = d.src.join(" "); $("#al-tgt").value = d.tgt.join(" "); }
    $("#al-info").textContent = `layer ${d.layer}, ${d.level} level, ${d.input} input, ${d.seconds.toFixed(3)} s` +
      (d.gold ? ` — gold ${d.gold.name}${d.gold.pair ? ` pair ${d.gold.pair}` : ""}: green = hit, red = false link, dashed = gold link missed` : "");
    for (const [m, a] of Object.entries(d.methods)) out.append(methodBlock(m, a, d));
    out.append(el("h3", {}, `similarity (${d.heatmap.method}, ${d.level} level; outlined: linked)`), heatmap(d.heatmap));
    const link = $("#al-link");
    link.href = `#align?${params}`;
    link.hidden = false;
  } catch (e) {
    showError(e.message);
    $("#al-info").textContent = "";
  }
}

function methodBlock(m, a, d) {
  const box = el("div", {class: "method", "data-method": m});
  let head = `${m}: ${a.links.length} links, confidence ${fmt(a.confidence, 3)}, coverage ${fmt(a.coverage, 3)}`;
  if (a.gold) head += ` · hits ${a.gold.hits}, false ${a.gold.false}, missed ${a.gold.misses.length} · P ${fmt(a.gold.precision, 3)} R ${fmt(a.gold.recall, 3)} AER ${fmt(a.gold.aer, 3)}`;
  box.append(el("h3", {}, head), linkSvg(d.src, d.tgt, a));
  const tb = el("tbody");
  for (const [i, j, s, st] of a.links) tb.append(el("tr", {class: st}, el("td", {}, d.src[i]), el("td", {}, d.tgt[j]),
    el("td", {class: "num"}, `${i}-${j}`), el("td", {class: "num"}, fmt(s)), el("td", {}, st)));
  const det = el("details", {}, el("summary", {}, "per-link scores"),
    el("table", {class: "links"}, el("thead", {}, el("tr", {}, ...["source", "target", "link", "score", ""].map((h) => el("th", {}, h)))), tb));
  box.append(det);
  return box;
}

function wordXs(words, width) {
  // x centre of each word, spaced by its length
  const w = words.map((x) => Math.max(3, x.length) * 8 + 14);
  const total = w.reduce((a, b) => a + b, 0);
  const scale = total > width ? width / total : 1;
  let x = total * scale < width ? (width - total * scale) / 2 : 0;
  return w.map((wi) => { const c = x + wi * scale / 2; x += wi * scale; return c; });
}

function linkSvg(src, tgt, a) {
  const width = Math.max(600, Math.max(src.join(" ").length, tgt.join(" ").length) * 9 + 40);
  const h = 170, top = 30, bot = h - 30;
  const s = svg("svg", {class: "links-svg", width, height: h, viewBox: `0 0 ${width} ${h}`});
  const xs = wordXs(src, width), xt = wordXs(tgt, width);
  src.forEach((w, i) => s.append(svg("text", {x: xs[i], y: top - 12, "text-anchor": "middle", class: "word"}, w)));
  tgt.forEach((w, j) => s.append(svg("text", {x: xt[j], y: bot + 22, "text-anchor": "middle", class: "word"}, w)));
  if (a.gold) for (const [i, j] of a.gold.misses) {
    s.append(svg("line", {x1: xs[i], y1: top, x2: xt[j], y2: bot, class: "link miss"}));
  }
  for (const [i, j, sc, st] of a.links) {
    const l = svg("line", {x1: xs[i], y1: top, x2: xt[j], y2: bot, class: `link ${st}`, "stroke-width": 1 + 3 * Math.max(0, sc)});
    l.append(svg("title", {}, `${src[i]} — ${tgt[j]}: ${fmt(sc)} (${st})`));
    s.append(l);
  }
  return s;
}

function heatmap(hm) {
  const cell = 22, left = 110, top = 90;
  const R = hm.src_labels.length, C = hm.tgt_labels.length;
  const s = svg("svg", {class: "heatmap", width: left + C * cell + 10, height: top + R * cell + 10});
  let lo = Infinity, hi = -Infinity;
  for (const row of hm.similarity) for (const v of row) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const linked = new Set(hm.cells.map(([i, j]) => `${i},${j}`));
  hm.similarity.forEach((row, i) => row.forEach((v, j) => {
    const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    const r = svg("rect", {x: left + j * cell, y: top + i * cell, width: cell - 1, height: cell - 1,
      fill: `hsl(210, 70%, ${Math.round(95 - 60 * t)}%)`, class: linked.has(`${i},${j}`) ? "cell linked" : "cell"});
    r.append(svg("title", {}, `${hm.src_labels[i]} / ${hm.tgt_labels[j]}: ${fmt(v)}`));
    s.append(r);
  }));
  hm.src_labels.forEach((w, i) => s.append(svg("text", {x: left - 4, y: top + i * cell + cell * 0.7, "text-anchor": "end", class: "label"}, w)));
  hm.tgt_labels.forEach((w, j) => {
    const x = left + j * cell + cell * 0.7;
    s.append(svg("text", {x, y: top - 4, transform: `rotate(-60 ${x} ${top - 4})`, class: "label"}, w));
  });
  return s;
}

// ------------------------------------------------------------------ results browser

async function openFolder(path) {
  const list = $("#rs-list"), imgs = $("#rs-images"), js = $("#rs-json"), rep = $("#rs-report");
  for (const x of [list, imgs, js, rep]) x.replaceChildren();
  const gen = ++GEN.results;
  let d;
  try { d = await api(`/api/results?path=${encodeURIComponent(path)}`, "listing"); } catch (e) { showError(e.message); return; }
  if (gen !== GEN.results) return;
  const crumbs = $("#rs-crumbs");
  crumbs.replaceChildren(el("a", {href: "#results?path="}, "results"));
  let acc = "";
  for (const part of d.path ? d.path.split("/") : []) {
    acc = acc ? `${acc}/${part}` : part;
    crumbs.append(" / ", el("a", {href: `#results?path=${encodeURIComponent(acc)}`}, part));
  }
  if (d.report.length) {
    rep.append(el("p", {class: "report"}, "Findings report: ",
      ...d.report.map((n) => el("a", {href: `/files/${d.path ? d.path + "/" : ""}${n}`, target: "_blank", class: "report-link"}, n + " "))));
  }
  const ul = el("ul");
  for (const sub of d.dirs) ul.append(el("li", {class: "dir"}, el("a", {href: `#results?path=${encodeURIComponent(sub.path)}`}, `${sub.name}/`)));
  for (const f of d.files) {
    const a = el("a", {href: `/files/${f.path}`, target: "_blank"}, f.name);
    ul.append(el("li", {class: `file ${f.kind}`}, a, ` (${f.kind}, ${f.size.toLocaleString()} bytes)`));
  }
  if (!d.dirs.length && !d.files.length) ul.append(el("li", {}, "(empty folder)"));
  list.append(ul);
  // a plot saved as both PNG and SVG is shown once (the PNG); both stay in the list above
  const pngs = new Set(d.files.filter((f) => f.name.endsWith(".png")).map((f) => f.name.slice(0, -4)));
  const shown = d.files.filter((f) => f.kind === "image" && !(f.name.endsWith(".svg") && pngs.has(f.name.slice(0, -4))));
  for (const f of shown.slice(0, 40)) {
    imgs.append(el("figure", {}, el("img", {src: `/files/${f.path}`, alt: f.name, loading: "lazy"}), el("figcaption", {}, f.name)));
  }
  for (const f of d.files.filter((f) => f.kind === "json").slice(0, 10)) {
    try {
      const block = jsonBlock(await api(`/api/results/json?path=${encodeURIComponent(f.path)}`, `reading ${f.name}`));
      if (gen !== GEN.results) return;
      js.append(block);
    } catch (e) { showError(e.message); }
  }
}

function jsonBlock(d) {
  const box = el("section", {class: "json"}, el("h3", {}, `${d.path}${d.kind ? ` — ${d.kind}` : ""}`));
  if (d.provenance) {
    const p = d.provenance;
    const items = [];
    if (p.model) items.push(`model: ${p.model.model_id || ""}${p.model.weights_sha256 ? ` (weights ${String(p.model.weights_sha256).slice(0, 12)}…)` : ""}`);
    if (p.command) items.push(`command: ${p.command}`);
    if (p.created) items.push(`created: ${p.created}`);
    if (p.git_commit) items.push(`git: ${p.git_commit}`);
    if (p.layers && p.layers.length) items.push(`layers: ${p.layers.join(", ")}`);
    if (p.datasets && p.datasets.length) items.push(`datasets: ${p.datasets.map((x) => x.name).join(", ")}`);
    const det = el("details", {class: "provenance"}, el("summary", {}, "provenance: " + (items[0] || "")),
      el("ul", {}, ...items.map((x) => el("li", {}, x))), el("pre", {}, JSON.stringify(p, null, 2)));
    box.append(det);
  }
  for (const t of d.tables) {
    const tbl = el("table", {class: "data"}, el("caption", {}, t.title + (t.truncated ? " (first rows)" : "")),
      el("thead", {}, el("tr", {}, ...t.columns.map((c) => el("th", {}, c)))));
    const tb = el("tbody");
    for (const row of t.rows) tb.append(el("tr", {}, ...row.map((v) => el("td", {class: typeof v === "number" ? "num" : ""}, fmt(v)))));
    tbl.append(tb);
    box.append(tbl);
  }
  if (!d.tables.length) box.append(el("p", {}, "(no table found in this JSON)"));
  return box;
}

// ------------------------------------------------------------------ wiring

document.addEventListener("DOMContentLoaded", () => {
  $("#nb-form").addEventListener("submit", (ev) => { ev.preventDefault(); const p = neighbourParams(); setHash("neighbours", p); loadNeighbours(p); });
  $("#nb-q").addEventListener("input", () => { $("#nb-count").textContent = $("#nb-q").value.length; });
  $("#al-form").addEventListener("submit", (ev) => { ev.preventDefault(); const p = alignParams(); setHash("align", p); runAlign(p); });
  $("#al-gold").addEventListener("change", syncGold);
  $("#al-emb-load").addEventListener("click", loadEmbedded);
  window.addEventListener("popstate", route);
  window.addEventListener("hashchange", route);
  refreshStatus();
  route();
});
