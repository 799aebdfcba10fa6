//! HTML building blocks: escaping, the page shell (inline CSS and the sorting script), tables
//! and small formatting helpers. Nothing here fetches or links anything outside the page.

use std::fmt::Write;

use crate::input::{DatasetRef, Lineage, MetricInfo, Metrics, Params};
use crate::plot::{format_number, format_time};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A string safe to use as an element id (letters, digits, `-`).
pub(crate) fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

const CSS: &str = r#"
:root{--ink:#222;--muted:#5f5f5f;--line:#d9d9d9;--zebra:#f6f7f9;--accent:#0072B2;--warn:#D55E00}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
header{padding:18px 28px 10px;border-bottom:1px solid var(--line);background:#fafbfc}
header h1{margin:0 0 4px;font-size:24px}
header .sub{color:var(--muted)}
nav.toc{margin-top:8px;font-size:14px}
nav.toc a{margin-right:14px;color:var(--accent);text-decoration:none}
nav.toc a:hover{text-decoration:underline}
main{padding:8px 28px 40px;max-width:1400px}
section{margin-top:26px}
h2{font-size:20px;border-bottom:2px solid var(--ink);padding-bottom:3px;margin:0 0 12px}
h3{font-size:17px;margin:20px 0 8px}
h4{font-size:15px;margin:16px 0 6px}
p{margin:6px 0}
.muted{color:var(--muted)}
.note{border-left:4px solid var(--warn);background:#fff6ef;padding:6px 12px;margin:8px 0}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
pre.spec{background:#f6f7f9;border:1px solid var(--line);padding:10px 12px;max-height:420px;overflow:auto;white-space:pre}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13.5px}
.scroll{overflow-x:auto;max-width:100%}
th,td{border-bottom:1px solid var(--line);padding:4px 7px;text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600;white-space:nowrap}
table.sortable th{white-space:normal;min-width:56px;max-width:118px;vertical-align:bottom}
tbody tr:nth-child(even){background:var(--zebra)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{background:none;font-weight:600;color:var(--muted)}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:focus{outline:2px solid var(--accent)}
table.sortable th[aria-sort=ascending]::after{content:" \25B2";font-size:11px}
table.sortable th[aria-sort=descending]::after{content:" \25BC";font-size:11px}
tr.baseline td{font-style:italic;color:var(--muted)}
td.best{font-weight:700}
td.best::before{content:"\2605 ";color:var(--accent);font-style:normal}
.oracle{display:block;font-size:12px;color:var(--muted)}
.params{font-size:12px;color:#333;min-width:240px;max-width:340px}
.params span{display:inline-block;margin-right:8px;max-width:100%;overflow-wrap:anywhere}
.better{color:#0072B2;font-weight:600}
.worse{color:#D55E00;font-weight:600}
figure{margin:10px 0 22px}
figure.plot{content-visibility:auto;contain-intrinsic-size:auto 520px}
figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:13.5px;color:var(--muted);margin-top:4px}
.row{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.cards{display:flex;flex-wrap:wrap;gap:18px}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:300px;flex:1}
.card h3{margin-top:0}
details>summary{cursor:pointer;color:var(--accent);margin:6px 0}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12.5px;border:1px solid var(--line);margin-right:4px}
.badge.ok{border-color:#009E73;color:#00674b}
.badge.no{border-color:#D55E00;color:#a04600}
footer{color:var(--muted);font-size:13px;border-top:1px solid var(--line);padding:10px 28px}
"#;

const SCRIPT: &str = r#"
(function(){
  function key(row,i){
    var c=row.cells[i]; if(!c){return null;}
    var v=c.getAttribute('data-v'); if(v===null){v=c.textContent.trim();}
    if(v===''){return null;}
    var n=Number(v); return isNaN(n)?v.toLowerCase():n;
  }
  function sortBy(table,th,i){
    var asc=th.getAttribute('aria-sort')!=='ascending';
    var heads=table.tHead.rows[0].cells;
    for(var h=0;h<heads.length;h++){heads[h].removeAttribute('aria-sort');}
    th.setAttribute('aria-sort',asc?'ascending':'descending');
    var body=table.tBodies[0], rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){
      var x=key(a,i), y=key(b,i);
      if(x===null){return y===null?0:1;} if(y===null){return -1;}
      var c=(typeof x===typeof y)?(x<y?-1:(x>y?1:0)):(typeof x==='number'?-1:1);
      return asc?c:-c;
    });
    rows.forEach(function(r){body.appendChild(r);});
  }
  var tables=document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables,function(table){
    var heads=table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads,function(th,i){
      th.tabIndex=0;
      th.addEventListener('click',function(){sortBy(table,th,i);});
      th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sortBy(table,th,i);}});
    });
  });
})();
"#;

/// A page being built: header, table of contents and sections.
#[derive(Debug)]
pub(crate) struct Page {
    title: String,
    subtitle: String,
    notes: Vec<String>,
    toc: Vec<(String, String)>,
    body: String,
}

impl Page {
    pub fn new(title: &str, subtitle: &str) -> Self {
        Self {
            title: title.to_string(),
            subtitle: subtitle.to_string(),
            notes: Vec::new(),
            toc: Vec::new(),
            body: String::new(),
        }
    }

    /// A highlighted remark under the title.
    pub fn note(&mut self, text: &str) {
        self.notes.push(text.to_string());
    }

    /// Opens a section (closed by the next one or by [`Page::finish`]).
    pub fn section(&mut self, id: &str, title: &str) {
        if !self.toc.is_empty() {
            self.body.push_str("</section>\n");
        }
        self.toc.push((id.to_string(), title.to_string()));
        let _ = writeln!(
            self.body,
            "<section id=\"{id}\">\n<h2>{}</h2>",
            escape(title)
        );
    }

    /// Raw HTML into the current section.
    pub fn push(&mut self, html: &str) {
        self.body.push_str(html);
    }

    /// A figure: heading, one SVG and a caption.
    /// The SVG is labelled by the caption for screen readers.
    pub fn figure(&mut self, id: &str, svg: &str, caption: &str) {
        let svg = svg.replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-labelledby=\"{id}-caption\" "),
            1,
        );
        let _ = writeln!(
            self.body,
            "<figure id=\"{id}\" class=\"plot\">{svg}<figcaption id=\"{id}-caption\">{caption}</figcaption></figure>"
        );
    }

    pub fn finish(mut self) -> String {
        if !self.toc.is_empty() {
            self.body.push_str("</section>\n");
        }
        let mut out = String::with_capacity(self.body.len() + 8_192);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        let _ = writeln!(out, "<title>{}</title>", escape(&self.title));
        let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>\n<header>");
        let _ = writeln!(out, "<h1>{}</h1>", escape(&self.title));
        if !self.subtitle.is_empty() {
            let _ = writeln!(out, "<div class=\"sub\">{}</div>", escape(&self.subtitle));
        }
        for note in &self.notes {
            let _ = writeln!(out, "<div class=\"note\">{}</div>", escape(note));
        }
        out.push_str("<nav class=\"toc\" aria-label=\"contents\">");
        for (id, title) in &self.toc {
            let _ = write!(out, "<a href=\"#{id}\">{}</a>", escape(title));
        }
        out.push_str("</nav>\n</header>\n<main>\n");
        out.push_str(&self.body);
        let _ = writeln!(
            out,
            "</main>\n<footer>Generated by vigil-reports {}. Times are UTC. Plots of long series are downsampled by min/max per 2-pixel column, so every spike is drawn.</footer>",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>");
        out
    }
}

/// One table cell: HTML content, an optional sort key and a class.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cell {
    pub html: String,
    pub sort: Option<String>,
    pub class: &'static str,
    pub title: Option<String>,
}

impl Cell {
    pub fn text(text: &str) -> Self {
        Self {
            html: escape(text),
            ..Self::default()
        }
    }

    pub fn html(html: String) -> Self {
        Self {
            html,
            ..Self::default()
        }
    }

    /// A number, right-aligned, sorted numerically; NaN shows "—" and sorts last.
    pub fn number(v: f64) -> Self {
        Self {
            html: format_number(v),
            sort: Some(if v.is_finite() {
                v.to_string()
            } else {
                String::new()
            }),
            class: "num",
            title: None,
        }
    }

    pub fn optional_number(v: Option<f64>) -> Self {
        Self::number(v.unwrap_or(f64::NAN))
    }

    pub fn with_class(mut self, class: &'static str) -> Self {
        self.class = class;
        self
    }
}

/// A column heading.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub text: String,
    pub numeric: bool,
    pub title: Option<String>,
}

impl Head {
    pub fn text(text: &str) -> Self {
        Self {
            text: text.to_string(),
            numeric: false,
            title: None,
        }
    }

    pub fn num(text: &str) -> Self {
        Self {
            text: text.to_string(),
            numeric: true,
            title: None,
        }
    }

    pub fn titled(mut self, title: Option<String>) -> Self {
        self.title = title;
        self
    }
}

/// Renders a table; `sortable` adds click-to-sort headings.
pub(crate) fn table(heads: &[Head], rows: &[(Option<&str>, Vec<Cell>)], sortable: bool) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<div class=\"scroll\"><table{}>\n<thead><tr>",
        if sortable { " class=\"sortable\"" } else { "" }
    );
    for h in heads {
        let class = if h.numeric { " class=\"num\"" } else { "" };
        let title = h
            .title
            .as_ref()
            .map(|t| format!(" title=\"{}\"", escape(t)))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<th scope=\"col\"{class}{title}>{}</th>",
            escape(&h.text)
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (class, cells) in rows {
        match class {
            Some(c) => {
                let _ = write!(out, "<tr class=\"{c}\">");
            }
            None => out.push_str("<tr>"),
        }
        for cell in cells {
            out.push_str("<td");
            if !cell.class.is_empty() {
                let _ = write!(out, " class=\"{}\"", cell.class);
            }
            if let Some(s) = &cell.sort {
                let _ = write!(out, " data-v=\"{}\"", escape(s));
            }
            if let Some(t) = &cell.title {
                let _ = write!(out, " title=\"{}\"", escape(t));
            }
            let _ = write!(out, ">{}</td>", cell.html);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// A two-column key/value table.
pub(crate) fn key_values(rows: &[(&str, String)]) -> String {
    let mut out = String::from("<table class=\"kv\"><tbody>\n");
    for (k, v) in rows {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{v}</td></tr>",
            escape(k)
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

/// Parameters as `name = value` chips.
pub(crate) fn params_html(params: &Params) -> String {
    if params.is_empty() {
        return "<span class=\"muted\">defaults</span>".to_string();
    }
    let mut out = String::from("<div class=\"params\">");
    // Unset (null) parameters mean "the family's automatic choice"; listing them is noise.
    for (k, v) in params.iter().filter(|(_, v)| !v.is_null()) {
        let value = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) if n.is_f64() => {
                n.as_f64().map_or_else(|| n.to_string(), format_number)
            }
            serde_json::Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        let _ = write!(
            out,
            "<span>{} = <b>{}</b></span>",
            escape(k),
            escape(&value)
        );
    }
    out.push_str("</div>");
    out
}

/// The metric columns: the given infos that some row has, then any other metric names in
/// first-seen order (higher-is-better), so nothing given is silently dropped.
pub(crate) fn metric_columns<'a>(
    infos: &[MetricInfo],
    metrics: impl Iterator<Item = &'a Metrics>,
) -> Vec<MetricInfo> {
    let mut names: Vec<&str> = Vec::new();
    for m in metrics {
        for name in m.names() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let mut out: Vec<MetricInfo> = infos
        .iter()
        .filter(|i| names.contains(&i.key.as_str()))
        .cloned()
        .collect();
    for name in names {
        if !infos.iter().any(|i| i.key == name) {
            out.push(MetricInfo::new(name));
        }
    }
    out
}

/// A heading for a metric column with its direction.
pub(crate) fn metric_head(info: &MetricInfo) -> Head {
    let arrow = if info.higher_is_better { "↑" } else { "↓" };
    let direction = if info.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    let title = match &info.description {
        Some(d) => format!("{d} ({direction})"),
        None => direction.to_string(),
    };
    Head::num(&format!("{} {arrow}", info.heading())).titled(Some(title))
}

/// Time as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn utc(ms: i64) -> String {
    format!("{} UTC", format_time(ms as f64, "%Y-%m-%d %H:%M:%S"))
}

/// Seconds as a short duration.
pub(crate) fn duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "—".into();
    }
    if seconds < 120.0 {
        format!("{} s", format_number(seconds))
    } else if seconds < 7_200.0 {
        format!("{:.1} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3_600.0)
    }
}

/// Milliseconds as a short signed duration.
pub(crate) fn duration_ms(ms: i64) -> String {
    let sign = if ms < 0 { "−" } else { "" };
    let s = (ms as f64).abs() / 1_000.0;
    let body = if s < 120.0 {
        format!("{} s", format_number(s))
    } else if s < 7_200.0 {
        format!("{} min", format_number(s / 60.0))
    } else if s < 172_800.0 {
        format!("{} h", format_number(s / 3_600.0))
    } else {
        format!("{} d", format_number(s / 86_400.0))
    };
    format!("{sign}{body}")
}

/// Dataset references as a table.
pub(crate) fn datasets_table(datasets: &[DatasetRef]) -> String {
    let heads = [
        Head::text("dataset"),
        Head::text("fingerprint (sha256)"),
        Head::text("source"),
        Head::text("split"),
        Head::num("series"),
        Head::num("rows"),
        Head::num("incidents"),
        Head::text("time range (UTC)"),
    ];
    let rows: Vec<(Option<&str>, Vec<Cell>)> = datasets
        .iter()
        .map(|d| {
            let range = match (d.start_ms, d.end_ms) {
                (Some(s), Some(e)) => format!(
                    "{} → {}",
                    format_time(s as f64, "%Y-%m-%d %H:%M"),
                    format_time(e as f64, "%Y-%m-%d %H:%M")
                ),
                _ => "—".into(),
            };
            (
                None,
                vec![
                    Cell::text(&d.name),
                    Cell::html(format!("<code>{}</code>", escape(&d.fingerprint))),
                    Cell::text(d.source.as_deref().unwrap_or("—")),
                    Cell::text(d.split.as_deref().unwrap_or("—")),
                    Cell::optional_number(d.series.map(|v| v as f64)),
                    Cell::optional_number(d.rows.map(|v| v as f64)),
                    Cell::optional_number(d.incidents.map(|v| v as f64)),
                    Cell::text(&range),
                ],
            )
        })
        .collect();
    table(&heads, &rows, false)
}

/// Lineage as a key/value table followed by the datasets.
pub(crate) fn lineage_html(lineage: &Lineage) -> String {
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(c) = &lineage.git_commit {
        let dirty = if lineage.git_dirty == Some(true) {
            " (uncommitted changes)"
        } else {
            ""
        };
        rows.push(("git commit", format!("<code>{}</code>{dirty}", escape(c))));
    }
    if let Some(v) = &lineage.vigil_version {
        rows.push(("vigil version", escape(v)));
    }
    if let Some(s) = lineage.seed {
        rows.push(("seed", s.to_string()));
    }
    if let Some(t) = lineage.started_at_ms {
        rows.push(("started", utc(t)));
    }
    if let Some(w) = lineage.wall_time_s {
        rows.push(("wall time", duration(w)));
    }
    if let Some(t) = lineage.threads {
        rows.push(("threads", t.to_string()));
    }
    for (k, v) in &lineage.extra {
        rows.push((k.as_str(), escape(v)));
    }
    let mut out = String::new();
    if !rows.is_empty() {
        out.push_str(&key_values(&rows));
    }
    if !lineage.datasets.is_empty() {
        out.push_str("<h3>Datasets</h3>\n");
        out.push_str(&datasets_table(&lineage.datasets));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_and_slug() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(slug("realKnownCause/ec2 CPU"), "realknowncause-ec2-cpu");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms(-90_000), "−90 s");
        assert_eq!(duration_ms(3 * 3_600_000), "3 h");
        assert_eq!(duration(7_500.0), "2.1 h");
    }
}
