"""The static report's HTML: self-contained pages (no network, no external files), laid out like the
taxonomy's figure: columns grouped by stage, each part's code and data side by side, a legend
beside the matrix. Charts are SVG drawn here; the matrix rows, filters, family members and the
evidence panel are drawn by a small script from the embedded data, which is escaped, and whose
strings reach the page as text only (card data is untrusted).

The palette is colour-blind safe (blue for open, through yellow, to brown for not released) and
every text/background pair has a contrast of at least 4.5:1 (WCAG AA; tests/test_report.py
computes them); the level is written in every cell too, so nothing rests on colour alone."""
from __future__ import annotations

import html
import json

# level or kind -> (background, text)
PALETTE = {
    "5": ("#08519c", "#ffffff"),        # public, no restriction
    "4": ("#9ecae1", "#1f2328"),        # public, one restriction
    "3": ("#fee391", "#1f2328"),
    "2": ("#fdae6b", "#1f2328"),
    "1": ("#8c2d04", "#ffffff"),        # not released: not found, or stated closed (marked ✕)
    "N/A": ("#eaeef2", "#57606a"),      # no such stage
    "Unknown": ("#ffffff", "#1f2328"),  # could not tell (dashed border)
}
PAGE_TEXT, MUTED_TEXT, LINK_TEXT, PAGE_BACKGROUND = "#1f2328", "#57606a", "#0969da", "#ffffff"
LEGEND = (
    ("5", "C5 / D5", "public, under a licence with no restriction"),
    ("4", "C4 / D4", "public, one restriction (e.g. attribution and a use policy)"),
    ("3", "C3 / D3", "public, more restrictions (D3: data under any restricting licence)"),
    ("2", "C2 / D2", "code: public but almost nothing allowed, or no licence; data: through an API only"),
    ("1", "C1 / D1", "not released: described but found nowhere public; ✕ the developers say it is withheld"),
    ("Unknown", "?", "could not tell: an unread card or link, an unknown base, contradicting evidence"),
    ("N/A", "n/a", "the model has no such stage (e.g. no fine-tuning)"),
)


def render(data: dict) -> str:
    payload = json.dumps({**data, "palette": PALETTE}, default=str, separators=(",", ":"))
    payload = payload.replace("</", "<\\/").replace("<!--", "<\\!--")
    page, totals = data["page"], data["totals"]
    first = page["number"] == 1
    return PAGE.format(
        style=STYLE + _palette_css(), payload=payload, script=SCRIPT, legend=_legend(), header=_matrix_header(data),
        summary=_summary(data) if first else f'<p><a href="index.html">Counts, charts and families of all '
                                              f'{totals["models"]:,} models</a></p>',
        families=FAMILIES.format(header=_matrix_header(data, "family")) if first and data.get("families") else "",
        pager=_pager(page, totals["models"]))


def column_names(figure) -> list[str]:
    """A readable name per column: 'Pretraining code', ..., 'Inference code', 'Weights'."""
    names = []
    for stage, parts in figure:
        for part, *columns in parts:
            names += [kind.capitalize() if stage == "Deployment" else f"{part} {kind}" for _, kind in columns]
    return names


def _palette_css() -> str:
    rules = [f".l{key if key.isdigit() else key.replace('/', '').lower()}{{background:{bg};color:{fg}}}"
             for key, (bg, fg) in PALETTE.items()]
    return "".join(rules) + ".lunknown{outline:1px dashed #57606a;outline-offset:-3px}"


def _matrix_header(data: dict, first: str = "model") -> str:
    figure = data["figure"]
    stages = "".join(f'<th colspan="{2 * len(parts)}" class="stage">{html.escape(stage)}</th>' for stage, parts in figure)
    parts = "".join(f'<th colspan="2" class="part">{html.escape(part)}</th>'
                    for _, group in figure for part, *_ in group)
    kinds = "".join(f'<th class="kind" title="{html.escape(key)}">{html.escape(kind)}</th>'
                    for _, group in figure for _, *columns in group for key, kind in columns)
    second = "licence" if first == "model" else "members"
    return (f'<tr><th rowspan="3" class="name">{first}</th><th rowspan="3">{second}</th>{stages}</tr>'
            f"<tr>{parts}</tr><tr>{kinds}</tr>")


def _legend() -> str:
    rows = "".join(f'<li><span class="swatch {_css_class(key)}">{html.escape(text)}</span> {html.escape(meaning)}</li>'
                   for key, text, meaning in LEGEND)
    return f'<aside class="legend" aria-label="legend"><h3>Legend</h3><ul>{rows}</ul></aside>'


def _css_class(key: str) -> str:
    return "l" + (key if key.isdigit() else key.replace("/", "").lower())


def _pager(page: dict, classified: int) -> str:
    last = min(page["first"] + page["size"] - 1, page["shown"])
    links = []
    if page["number"] > 1:
        links.append(f'<a href="{page_name(page["number"] - 1)}">previous</a>')
    if page["number"] < page["pages"]:
        links.append(f'<a href="{page_name(page["number"] + 1)}">next</a>')
    return (f'<p class="pager">Models {page["first"]:,}-{last:,} of the {page["shown"]:,} most downloaded '
            f'({classified:,} classified), {page["size"]:,} a page: page {page["number"]} of {page["pages"]}. '
            + " · ".join(links) + "</p>")


def page_name(number: int) -> str:
    """The file of the matrix's page `number`: index.html first (with the counts and charts)."""
    return "index.html" if number == 1 else f"models-{number}.html"


def _summary(data: dict) -> str:
    totals = data["totals"]
    return SUMMARY.format(models=f'{totals["models"]:,}', mof_i=totals["mof_i"], mof_ii=totals["mof_ii"],
                          mof_iii=totals["mof_iii"], osaid=totals["open_source_ai"], label_chart=_label_chart(data),
                          licence_chart=_licence_chart(data["licences"]))


CHART_LEGEND = (("5", "5 fully open"), ("4", "4"), ("3", "3"), ("2", "2"), ("1", "1 not released"),
                ("N/A", "n/a"), ("Unknown", "? unknown"))


def _label_chart(data: dict) -> str:
    """Per column of the figure, a bar split by level: how open every classified model is there,
    each part's count written in it where it fits, with a legend of the levels above."""
    width, row, left, top = 680, 22, 170, 26
    names = column_names(data["figure"])
    parts = [f'<svg class="chart" role="img" aria-label="levels per component" width="{width}" '
             f'height="{top + row * len(names) + 10}" xmlns="http://www.w3.org/2000/svg">']
    x = left
    for level, text in CHART_LEGEND:  # the legend: a swatch and its level's name
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{PALETTE[level][0]}" stroke="#57606a" '
                     f'stroke-width="0.5"/><text x="{x + 16}" y="14" font-size="11" fill="{PAGE_TEXT}">'
                     f'{html.escape(text)}</text>')
        x += 22 + 6.5 * len(text)
    for i, (key, name) in enumerate(zip(data["components"], names)):
        counts: dict[str, int] = {}
        for label, n in data["labels"].get(key, {}).items():
            level = label[1:] if label[:1] in ("C", "D") else label
            counts[level] = counts.get(level, 0) + n
        total = sum(counts.values()) or 1
        x, y = left, top + i * row + 4
        parts.append(f'<text x="0" y="{y + 13}" font-size="12" fill="{PAGE_TEXT}">{html.escape(name)}</text>')
        for level in PALETTE:
            share = counts.get(level, 0) / total * (width - left - 10)
            if share:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{share:.1f}" height="16" fill="{PALETTE[level][0]}" '
                             f'stroke="#57606a" stroke-width="0.5"><title>{html.escape(name)}: {counts[level]:,} '
                             f'{"level " + level if level.isdigit() else level}</title></rect>')
                if share >= 8 * len(f"{counts[level]:,}") + 4:  # the count, where it fits
                    parts.append(f'<text class="count" x="{x + share / 2:.1f}" y="{y + 12}" font-size="11" '
                                 f'text-anchor="middle" fill="{PALETTE[level][1]}">{counts[level]:,}</text>')
                x += share
    parts.append("</svg>")
    return "".join(parts)


def _licence_chart(licences: list[dict]) -> str:
    width, row, left = 680, 20, 200
    most = max((l["models"] for l in licences), default=1) or 1
    parts = [f'<svg class="chart" role="img" aria-label="models per licence" width="{width}" '
             f'height="{row * len(licences) + 10}" xmlns="http://www.w3.org/2000/svg">']
    for i, entry in enumerate(licences):
        y = i * row + 4
        bar = entry["models"] / most * (width - left - 70)
        open_bar = (entry["open_weights"] or 0) / most * (width - left - 70)
        parts.append(f'<text x="0" y="{y + 12}" font-size="12" fill="{PAGE_TEXT}">{html.escape(str(entry["licence"]))[:32]}</text>'
                     f'<rect x="{left}" y="{y}" width="{bar:.1f}" height="14" fill="#d0d7de"/>'
                     f'<rect x="{left}" y="{y}" width="{open_bar:.1f}" height="14" fill="{PALETTE["5"][0]}"/>'
                     f'<text x="{left + bar + 4:.1f}" y="{y + 12}" font-size="11" fill="{PAGE_TEXT}">{entry["models"]:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


STYLE = f"""
body{{font:14px/1.4 system-ui,sans-serif;margin:24px;color:{PAGE_TEXT};background:{PAGE_BACKGROUND}}}
a{{color:{LINK_TEXT}}} .muted{{color:{MUTED_TEXT}}}
h1{{font-size:22px;margin:0 0 4px}} h2{{font-size:17px;margin:28px 0 8px}} h3{{font-size:15px;margin:0 0 6px}}
.cards{{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}}
.card{{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px}} .card b{{display:block;font-size:20px}}
.filters{{display:flex;gap:10px;flex-wrap:wrap;margin:8px 0}} select,input{{font:inherit;padding:2px 4px}}
.figure{{display:flex;gap:16px;align-items:flex-start}}
table.matrix{{border-collapse:collapse;font-size:12px}}
.matrix th,.matrix td{{border:1px solid #d0d7de;padding:2px 4px}}
.matrix th{{font-weight:600;text-align:center;background:#f6f8fa}} .matrix th.stage{{font-size:13px}}
.matrix th.kind{{font-weight:normal;font-size:11px}}
.matrix tbody td:nth-child(2n+3),.matrix th.kind:nth-child(odd),.matrix th.part,.matrix th.stage{{border-left:2px solid #8c959f}}
.matrix td.cell{{width:38px;text-align:center;cursor:pointer;font-weight:600}}
.matrix td.cell:hover,.matrix td.cell:focus{{outline:2px solid {LINK_TEXT};outline-offset:-2px}}
.matrix td.model{{white-space:nowrap;max-width:320px;overflow:hidden;text-overflow:ellipsis}}
.matrix tr.member td.model{{padding-left:20px}} .matrix button{{font:inherit;font-size:11px;cursor:pointer}}
.legend{{position:sticky;top:12px;min-width:300px;max-width:360px;border:1px solid #d0d7de;border-radius:6px;padding:10px}}
.legend ul{{list-style:none;margin:0;padding:0}} .legend li{{margin:4px 0;font-size:12px}}
.swatch{{display:inline-block;min-width:48px;text-align:center;font-weight:600;padding:1px 4px;margin-right:6px}}
#panel{{position:fixed;right:0;top:0;bottom:0;width:440px;overflow:auto;background:#f6f8fa;border-left:1px solid #d0d7de;padding:16px;display:none}}
#panel pre{{white-space:pre-wrap;background:#fff;border:1px solid #d0d7de;padding:6px;font-size:12px}}
#panel p,#panel a,#panel pre{{overflow-wrap:anywhere}}
.matrix td.model a{{color:inherit}} #elsewhere li{{margin:2px 0}}
"""

SUMMARY = """<div class="cards">
<div class="card"><b>{models}</b>models classified</div>
<div class="card"><b>{mof_i} / {mof_ii} / {mof_iii}</b>MOF Class I / II / III</div>
<div class="card"><b>{osaid}</b>open source AI (OSAID)</div>
</div>
<h2>Levels per component, every classified model</h2>
{label_chart}
<h2>Models per licence</h2>
<p class="muted">Grey: models with the licence; blue: those whose weights are fully open.</p>
{licence_chart}"""

FAMILIES = """<h2>Families</h2>
<p class="muted">A family's cell is its most open member's: the family releases that component if one
member does. Show a family's members (the most downloaded first) to see each one's own cells.</p>
<table class="matrix" id="families"><thead>{header}</thead><tbody></tbody></table>"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>openness report</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{style}</style></head>
<body>
<h1>How open are these models?</h1>
<p class="muted">Each cell is one component of the openness taxonomy (C: code, D: data; 5 fully open, 1 not
released), from evidence a reader can follow: click a cell. Counts and charts of every classified
model follow the matrix.</p>
{pager}
<div class="filters">
<label>Author <select id="f-author"><option value="">all</option></select></label>
<label>Licence <select id="f-licence"><option value="">all</option></select></label>
<label>Family <select id="f-family"><option value="">all</option></select></label>
<label>Search <input id="f-text" type="search" placeholder="model id"></label>
<span id="count" class="muted"></span>
</div>
<div id="elsewhere" hidden><p class="muted">On other pages:</p><ul></ul></div>
<div class="figure">
<table class="matrix" id="matrix"><thead>{header}</thead><tbody></tbody></table>
{legend}
</div>
{families}
{summary}
<aside id="panel" aria-live="polite"></aside>
<script type="application/json" id="data">{payload}</script>
<script src="report-index.js"></script>
<script>{script}</script>
</body></html>
"""

SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  // every shown model of the report: [id, author, licence, family, page] (report-index.js, beside
  // the pages); without it, the filters and search cover this page only
  var index = window.OPENNESS_INDEX || data.models.map(function (m) {
    return [m.model_id, m.author, m.license, m.family, data.page.number];
  });
  var HUB = "https://huggingface.co/";
  function pageName(n) { return n === 1 ? "index.html" : "models-" + n + ".html"; }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function kind(label) {
    if (/^[CD][1-5]$/.test(label || "")) { return "l" + label.slice(1); }
    return label === "N/A" ? "lna" : "lunknown";
  }
  function paint(td, label, reason) {
    // level 1 comes in two kinds an auditor must tell apart: withheld by statement, or released
    // nowhere the audit searched
    var stated = /^[CD]1$/.test(label || "") && /^stated_closed|^api_only/.test(reason || "");
    td.textContent = label === "Unknown" || !label ? "?" : label === "N/A" ? "n/a" : label + (stated ? " \u2715" : "");
    td.className = "cell " + kind(label);
    td.title = (label || "not classified") + (reason ? ": " + reason.replace(/_/g, " ") : "");
  }
  function options(id, column) {
    var select = document.getElementById(id), seen = {};
    index.map(function (entry) { return entry[column]; }).filter(function (v) {
      if (!v || seen[v]) { return false; }
      seen[v] = true;
      return true;
    }).sort().forEach(function (v) { select.appendChild(el("option", v, {"value": v})); });
    select.addEventListener("change", draw);
  }
  function evidence(panel, e) {
    var where = (e.path || "") + (e.line ? ", line " + e.line : "");
    var p = el("p");
    if (e.link && /^https:\/\//.test(e.link)) { p.appendChild(el("a", where || e.link, {"href": e.link, "rel": "noopener"})); }
    else { p.textContent = where + (e.read_from ? " (read from " + e.read_from + ")" : ""); }
    panel.appendChild(p);
    if (e.card) { panel.appendChild(el("p", e.card, {"class": "note"})); }
    if (e.snippet) { panel.appendChild(el("pre", e.snippet)); }
  }
  function show(model, index) {
    var cell = model.cells[index], panel = document.getElementById("panel");
    panel.textContent = "";
    panel.style.display = "block";
    var close = el("button", "close");
    close.addEventListener("click", function () { panel.style.display = "none"; });
    panel.appendChild(close);
    var title = el("h3");
    title.appendChild(el("a", model.model_id, {"href": HUB + model.model_id, "rel": "noopener"}));
    panel.appendChild(title);
    panel.appendChild(el("p", data.component_names[index] + ": " + (cell ? cell.label : "not classified"),
                         {"title": data.components[index]}));
    if (!cell) { return; }
    panel.appendChild(el("p", "why: " + cell.reason.replace(/_/g, " ") + (cell.inherited_from ? " (from " + cell.inherited_from + ")" : "")));
    if (cell.search) { panel.appendChild(el("p", "searched: " + cell.search, {"class": "search"})); }
    panel.appendChild(el("p", "confidence: " + cell.confidence));
    cell.licences.forEach(function (l) {
      panel.appendChild(el("p", "licence: " + (l.id || "unknown") + " (" + (l.points === null ? "not scored" : l.points + " points") + "), " + l.source));
    });
    cell.evidence.forEach(function (e) { evidence(panel, e); });
  }
  function nameRow(name, cls, link) {
    var row = el("tr", null, cls ? {"class": cls} : {});
    var cell = el("td", link ? null : name, {"class": "model", "title": name});
    if (link) { cell.appendChild(el("a", name, {"href": HUB + name, "rel": "noopener"})); }
    row.appendChild(cell);
    return row;
  }
  function chosen() {
    return {author: document.getElementById("f-author").value, licence: document.getElementById("f-licence").value,
            family: document.getElementById("f-family").value,
            text: document.getElementById("f-text").value.toLowerCase()};
  }
  function matches(f, id, author, licence, family) {
    return !((f.author && author !== f.author) || (f.licence && licence !== f.licence) ||
             (f.family && family !== f.family) || (f.text && id.toLowerCase().indexOf(f.text) < 0));
  }
  function elsewhere(f) {
    // the models of the other pages that the filters and search let through, each a link to its page
    var box = document.getElementById("elsewhere"), list = box.getElementsByTagName("ul")[0], found = 0;
    list.textContent = "";
    if (f.author || f.licence || f.family || f.text) {
      index.forEach(function (entry) {
        if (entry[4] === data.page.number || !matches(f, entry[0], entry[1], entry[2], entry[3])) { return; }
        found += 1;
        if (found > 200) { return; }
        var item = el("li");
        item.appendChild(el("a", entry[0], {"href": pageName(entry[4]) + "#search=" + encodeURIComponent(entry[0])}));
        item.appendChild(document.createTextNode(" (page " + entry[4] + ")"));
        list.appendChild(item);
      });
    }
    box.hidden = found === 0;
    return found;
  }
  function draw() {
    var f = chosen(), body = document.getElementById("matrix").tBodies[0], shown = 0;
    body.textContent = "";
    data.models.forEach(function (model) {
      if (!matches(f, model.model_id, model.author, model.license, model.family)) { return; }
      shown += 1;
      var row = nameRow(model.model_id, null, true);
      row.appendChild(el("td", model.license));
      model.cells.forEach(function (cell, index) {
        var td = el("td", null, {"tabindex": "0"});
        paint(td, cell ? cell.label : "", cell ? cell.reason : "");
        td.addEventListener("click", function () { show(model, index); });
        td.addEventListener("keydown", function (event) { if (event.key === "Enter") { show(model, index); } });
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    var others = elsewhere(f);
    document.getElementById("count").textContent = shown + " of the " + data.models.length + " models on this page" +
      (others ? "; " + others + " more on other pages (below)" : "");
  }
  function fromHash() {
    // #search=ID, #author=..., #licence=..., #family=..., #cell=MODEL|COMPONENT: a page opened
    // from another page's list, or a link to one cell
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
      var at = pair.indexOf("=");
      if (at > 0) { params[pair.slice(0, at)] = decodeURIComponent(pair.slice(at + 1)); }
    });
    [["search", "f-text"], ["author", "f-author"], ["licence", "f-licence"], ["family", "f-family"]].forEach(function (p) {
      if (params[p[0]] !== undefined) { document.getElementById(p[1]).value = params[p[0]]; }
    });
    return params;
  }
  function families() {
    var table = document.getElementById("families");
    if (!table) { return; }
    var body = table.tBodies[0];
    data.families.forEach(function (f) {
      var row = nameRow(f.family);
      var toggle = el("button", "\u25b8 " + f.models + " models", {"aria-expanded": "false"});
      var cell = el("td");
      cell.appendChild(toggle);
      row.appendChild(cell);
      f.cells.forEach(function (label) { var td = el("td"); paint(td, label); row.appendChild(td); });
      body.appendChild(row);
      var members = f.members.map(function (m) {
        var member = nameRow(m.model_id, "member");
        member.appendChild(el("td", ""));
        m.cells.forEach(function (label) { var td = el("td"); paint(td, label); member.appendChild(td); });
        member.hidden = true;
        body.appendChild(member);
        return member;
      });
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", String(open));
        toggle.textContent = (open ? "\u25be " : "\u25b8 ") + f.models + " models";
        members.forEach(function (m) { m.hidden = !open; });
      });
    });
  }
  options("f-author", 1);
  options("f-licence", 2);
  options("f-family", 3);
  document.getElementById("f-text").addEventListener("input", draw);
  var params = fromHash();
  draw();
  families();
  if (params.cell) {
    var at = params.cell.lastIndexOf("|"), id = params.cell.slice(0, at), key = params.cell.slice(at + 1);
    var model = data.models.filter(function (m) { return m.model_id === id; })[0];
    var column = data.components.indexOf(key);
    if (model && column >= 0) { show(model, column); }
  }
})();
"""
