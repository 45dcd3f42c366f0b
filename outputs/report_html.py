"""The static report's HTML: one self-contained page (no network, no external files). Charts are
SVG drawn here; the matrix, its filters and the evidence panel are drawn by a small script from
the embedded data, which is escaped, and whose strings reach the page as text only (card data is
untrusted)."""
from __future__ import annotations

import html
import json

COLOURS = {5: "#1a7f37", 4: "#7cc47f", 3: "#f2d04b", 2: "#f0883e", 1: "#cf222e"}
NA_COLOUR, UNKNOWN_COLOUR = "#d0d7de", "#ffffff"
LABEL_ORDER = ("5", "4", "3", "2", "1", "N/A", "Unknown")


def render(data: dict) -> str:
    payload = json.dumps(data, default=str, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")
    totals = data["totals"]
    return PAGE.format(
        models=totals["models"], shown=len(data["models"]), mof_i=totals["mof_i"], mof_ii=totals["mof_ii"],
        mof_iii=totals["mof_iii"], osaid=totals["open_source_ai"], label_chart=_label_chart(data),
        licence_chart=_licence_chart(data["licences"]), legend=_legend(), payload=payload, style=STYLE, script=SCRIPT)


def _level_of(label: str) -> str:
    return label[1:] if label[:1] in ("C", "D") else label


def _colour(key: str) -> str:
    return COLOURS[int(key)] if key.isdigit() else (NA_COLOUR if key == "N/A" else UNKNOWN_COLOUR)


def _label_chart(data: dict) -> str:
    """Per component, a bar split by level: how open the classified models are, component by component."""
    width, row, left = 640, 22, 210
    parts = [f'<svg class="chart" role="img" aria-label="levels per component" width="{width}" '
             f'height="{row * len(data["components"]) + 10}" xmlns="http://www.w3.org/2000/svg">']
    for i, key in enumerate(data["components"]):
        counts: dict[str, int] = {}
        for label, n in data["labels"].get(key, {}).items():
            counts[_level_of(label)] = counts.get(_level_of(label), 0) + n
        total = sum(counts.values()) or 1
        x, y = left, i * row + 4
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{html.escape(key)}</text>')
        for level in LABEL_ORDER:
            share = counts.get(level, 0) / total * (width - left - 10)
            if share:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{share:.1f}" height="16" fill="{_colour(level)}" '
                             f'stroke="#8c959f" stroke-width="0.5"><title>{html.escape(key)}: {counts[level]} '
                             f'{"level " + level if level.isdigit() else level}</title></rect>')
                x += share
    parts.append("</svg>")
    return "".join(parts)


def _licence_chart(licences: list[dict]) -> str:
    width, row, left = 640, 20, 200
    most = max((l["models"] for l in licences), default=1) or 1
    parts = [f'<svg class="chart" role="img" aria-label="models per licence" width="{width}" '
             f'height="{row * len(licences) + 10}" xmlns="http://www.w3.org/2000/svg">']
    for i, entry in enumerate(licences):
        y = i * row + 4
        bar = entry["models"] / most * (width - left - 60)
        open_bar = (entry["open_weights"] or 0) / most * (width - left - 60)
        parts.append(f'<text x="0" y="{y + 12}" font-size="12">{html.escape(str(entry["licence"]))[:32]}</text>'
                     f'<rect x="{left}" y="{y}" width="{bar:.1f}" height="14" fill="#8c959f"/>'
                     f'<rect x="{left}" y="{y}" width="{open_bar:.1f}" height="14" fill="{COLOURS[5]}"/>'
                     f'<text x="{left + bar + 4:.1f}" y="{y + 12}" font-size="11">{entry["models"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _legend() -> str:
    items = [(f"level {level}", COLOURS[level]) for level in (5, 4, 3, 2, 1)] + [("N/A", NA_COLOUR), ("Unknown", UNKNOWN_COLOUR)]
    return "".join(f'<span class="key"><i style="background:{colour}"></i>{name}</span>' for name, colour in items)


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1f2328}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px} .card b{display:block;font-size:20px}
.key{margin-right:12px;white-space:nowrap} .key i{display:inline-block;width:12px;height:12px;border:1px solid #8c959f;margin-right:4px;vertical-align:-1px}
.filters{display:flex;gap:10px;flex-wrap:wrap;margin:8px 0} select,input{font:inherit;padding:2px 4px}
table.matrix{border-collapse:collapse;font-size:12px} .matrix th,.matrix td{border:1px solid #d0d7de;padding:2px 4px}
.matrix th.component{writing-mode:vertical-rl;transform:rotate(180deg);height:170px;font-weight:normal;text-align:left}
.matrix td.cell{width:30px;text-align:center;cursor:pointer} .matrix td.cell:hover{outline:2px solid #0969da}
.matrix td.model{white-space:nowrap;max-width:340px;overflow:hidden;text-overflow:ellipsis}
#panel{position:fixed;right:0;top:0;bottom:0;width:420px;overflow:auto;background:#f6f8fa;border-left:1px solid #d0d7de;padding:16px;display:none}
#panel pre{white-space:pre-wrap;background:#fff;border:1px solid #d0d7de;padding:6px;font-size:12px}
.muted{color:#57606a}
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>openness report</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{style}</style></head>
<body>
<h1>How open are these models?</h1>
<p class="muted">Each cell is one component of the openness taxonomy (C = code, D = data; 5 fully open,
1 closed), from evidence a reader can follow: click a cell.</p>
<div class="cards">
<div class="card"><b>{models}</b>models classified</div>
<div class="card"><b>{shown}</b>in the matrix (most downloaded)</div>
<div class="card"><b>{mof_i} / {mof_ii} / {mof_iii}</b>MOF Class I / II / III</div>
<div class="card"><b>{osaid}</b>open source AI (OSAID)</div>
</div>
<h2>Levels per component</h2>
<div>{legend}</div>
<p class="muted">Level 1 is "not found" (released nowhere the audit searched: the card, its own links and
papers) or, marked &#x2715;, "stated closed" (the card says it is withheld); Unknown means the search could not
be completed (an unread card or link, an unknown base model) or the evidence contradicts itself.</p>
{label_chart}
<h2>Models per licence</h2>
<p class="muted">Grey: models with the licence; green: those whose weights are fully open.</p>
{licence_chart}
<h2>Models by component</h2>
<div class="filters">
<label>Author <select id="f-author"><option value="">all</option></select></label>
<label>Licence <select id="f-licence"><option value="">all</option></select></label>
<label>Family <select id="f-family"><option value="">all</option></select></label>
<label>Search <input id="f-text" type="search" placeholder="model id"></label>
<span id="count" class="muted"></span>
</div>
<table class="matrix" id="matrix"><thead></thead><tbody></tbody></table>
<h2>Families</h2>
<p class="muted">A family's cell is its most open member's.</p>
<table class="matrix" id="families"><thead></thead><tbody></tbody></table>
<aside id="panel" aria-live="polite"></aside>
<script type="application/json" id="data">{payload}</script>
<script>{script}</script>
</body></html>
"""

SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var colours = {"5": "#1a7f37", "4": "#7cc47f", "3": "#f2d04b", "2": "#f0883e", "1": "#cf222e", "N/A": "#d0d7de"};
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function levelKey(label) { return /^[CD][1-5]$/.test(label) ? label.slice(1) : label; }
  function header(table, first) {
    var row = el("tr");
    first.forEach(function (name) { row.appendChild(el("th", name)); });
    data.components.forEach(function (key) { row.appendChild(el("th", key, {"class": "component", "title": key})); });
    table.tHead.appendChild(row);
  }
  function paint(td, label, reason) {
    // level 1 comes in two kinds an auditor must tell apart: withheld by statement, or released
    // nowhere the audit searched
    var stated = /^[CD]1$/.test(label || "") && /^stated_closed|^api_only/.test(reason || "");
    td.textContent = (label || "") + (stated ? "\u2715" : "");
    td.style.background = colours[levelKey(label)] || "#ffffff";
    if (reason) { td.title = (td.title ? td.title + ": " : "") + reason.replace(/_/g, " "); }
  }
  function options(id, values) {
    var select = document.getElementById(id);
    values.filter(function (v, i, all) { return v && all.indexOf(v) === i; }).sort().forEach(function (v) {
      select.appendChild(el("option", v, {"value": v}));
    });
    select.addEventListener("change", draw);
  }
  function show(model, index) {
    var cell = model.cells[index], panel = document.getElementById("panel");
    panel.textContent = "";
    panel.style.display = "block";
    var close = el("button", "close");
    close.addEventListener("click", function () { panel.style.display = "none"; });
    panel.appendChild(close);
    panel.appendChild(el("h3", model.model_id));
    panel.appendChild(el("p", data.components[index] + ": " + (cell ? cell.label : "not classified")));
    if (!cell) { return; }
    panel.appendChild(el("p", "why: " + cell.reason + (cell.inherited_from ? " (from " + cell.inherited_from + ")" : "")));
    panel.appendChild(el("p", "confidence: " + cell.confidence));
    cell.licences.forEach(function (l) {
      panel.appendChild(el("p", "licence: " + (l.id || "unknown") + " (" + (l.points === null ? "?" : l.points) + " points) - " + l.source));
    });
    cell.evidence.forEach(function (e) {
      var where = (e.path || "") + (e.line_start ? ":" + e.line_start : "");
      var p = el("p");
      if (e.url && /^https?:\/\//.test(e.url)) { p.appendChild(el("a", where || e.url, {"href": e.url, "rel": "noopener"})); }
      else { p.textContent = where; }
      panel.appendChild(p);
      panel.appendChild(el("pre", e.snippet));
    });
  }
  function draw() {
    var author = document.getElementById("f-author").value, licence = document.getElementById("f-licence").value;
    var family = document.getElementById("f-family").value, text = document.getElementById("f-text").value.toLowerCase();
    var body = document.getElementById("matrix").tBodies[0], shown = 0;
    body.textContent = "";
    data.models.forEach(function (model) {
      if ((author && model.author !== author) || (licence && model.license !== licence) ||
          (family && model.family !== family) || (text && model.model_id.toLowerCase().indexOf(text) < 0)) { return; }
      shown += 1;
      var row = el("tr");
      row.appendChild(el("td", model.model_id, {"class": "model", "title": model.model_id}));
      row.appendChild(el("td", model.license));
      model.cells.forEach(function (cell, index) {
        var td = el("td", null, {"class": "cell", "title": data.components[index]});
        paint(td, cell ? cell.label : "", cell ? cell.reason : "");
        td.addEventListener("click", function () { show(model, index); });
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    document.getElementById("count").textContent = shown + " of " + data.models.length + " models";
  }
  function families() {
    var table = document.getElementById("families");
    header(table, ["family", "models"]);
    data.families.forEach(function (f) {
      var row = el("tr");
      row.appendChild(el("td", f.family, {"class": "model"}));
      row.appendChild(el("td", f.models));
      f.cells.forEach(function (label) { var td = el("td", null, {"class": "cell"}); paint(td, label); row.appendChild(td); });
      table.tBodies[0] || table.appendChild(el("tbody"));
      table.tBodies[0].appendChild(row);
    });
  }
  var matrix = document.getElementById("matrix");
  header(matrix, ["model", "licence"]);
  options("f-author", data.models.map(function (m) { return m.author; }));
  options("f-licence", data.models.map(function (m) { return m.license; }));
  options("f-family", data.models.map(function (m) { return m.family; }));
  document.getElementById("f-text").addEventListener("input", draw);
  draw();
  families();
})();
"""
