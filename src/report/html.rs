//! The run report: one self-contained HTML file (inline CSS, inline SVG map,
//! no script, no external resource) for tax authorities and map makers.
//!
//! [`render_report`] takes a plain [`Report`] filled by the caller: nothing is
//! read from disk or from the clock here, so the same report data always
//! gives the same bytes. Every text is HTML-escaped; the output is also
//! well-formed XML (void elements self-closed, only the five XML entities),
//! so XML tools can check it.

use std::fmt::Write as _;
use std::path::Path;

use super::xlsx::Cell;
use crate::error::Result;
use crate::io::atomic::OutputSet;

/// Escape text for HTML/XML content and attribute values (`&`, `<`, `>`,
/// `"`, `'`); control characters that XML forbids become spaces.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A relative link made safe: escaped, and anything that looks like a URL
/// scheme (`javascript:`, `http:`) made a relative path with `./`.
fn safe_href(href: &str) -> String {
    let first_sep = href.find(['/', '?', '#']).unwrap_or(href.len());
    if href[..first_sep].contains(':') {
        format!("./{}", escape(href))
    } else {
        escape(href)
    }
}

/// A fragment id from a name: letters and digits kept (any script),
/// anything else `-`.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// An integer with narrow no-break spaces between thousands (`1 234 567`).
pub fn group_thousands(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202F}');
        }
        out.push(ch);
    }
    out
}

/// An input file and its checksum.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputFile {
    /// Path as given by the user.
    pub path: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// Features (rows) read, when known.
    pub features: Option<usize>,
}

/// A count of settlements (and their population) for one key: a
/// neighbour, an admin unit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Count {
    /// The key (neighbour code, admin unit name).
    pub key: String,
    /// Settlements in the zone.
    pub settlements: usize,
    /// Their population, when known.
    pub population: Option<u64>,
}

/// A link to an output file of the run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileLink {
    /// Relative href, e.g. `eligible_china_20km.csv`.
    pub href: String,
    /// What the file holds.
    pub description: String,
}

/// One scenario's results.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScenarioSummary {
    /// Scenario name, e.g. `china_20km`.
    pub name: String,
    /// Zone width (km).
    pub distance_km: f64,
    /// Neighbours whose border counts (empty: the whole border).
    pub neighbours: Vec<String>,
    /// Settlements measured.
    pub settlements_total: usize,
    /// Settlements in the zone (eligible).
    pub settlements_in_zone: usize,
    /// Settlements outside but near the zone edge, when computed.
    pub settlements_near_line: Option<usize>,
    /// Population in the zone, when known.
    pub population_in_zone: Option<u64>,
    /// In-zone settlements by nearest neighbour.
    pub by_neighbour: Vec<Count>,
    /// In-zone settlements by admin unit (may be empty).
    pub by_admin: Vec<Count>,
    /// The scenario's list files.
    pub files: Vec<FileLink>,
}

/// One hub candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct HubRow {
    /// Rank (1 = best).
    pub rank: u32,
    /// Settlement name.
    pub name: String,
    /// Total score.
    pub score: f64,
    /// Factor values, one per [`HubTable::factor_names`].
    pub factors: Vec<Cell>,
}

/// The hub candidates table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HubTable {
    /// Factor column headers, with units (e.g. `distance to crossing (km)`).
    pub factor_names: Vec<String>,
    /// Rows, in rank order.
    pub rows: Vec<HubRow>,
}

/// Any other table (standards / road access…).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// HTML id and class of the `<table>` (e.g. `access`).
    pub id: String,
    /// Section heading.
    pub title: String,
    /// Column headers.
    pub header: Vec<String>,
    /// Rows; numbers are right-aligned.
    pub rows: Vec<Vec<Cell>>,
}

/// Everything the report shows. Nothing is computed here.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// Page title and heading.
    pub title: String,
    /// Run identifier.
    pub run_id: String,
    /// borderzone version (e.g. `env!("CARGO_PKG_VERSION")`).
    pub tool_version: String,
    /// When the run happened, as text (the caller reads the clock).
    pub generated_at: String,
    /// Parameters worth showing (name, value), e.g. the config.
    pub parameters: Vec<(String, String)>,
    /// Input files with checksums.
    pub inputs: Vec<InputFile>,
    /// Scenario results.
    pub scenarios: Vec<ScenarioSummary>,
    /// Hub candidates, when computed.
    pub hubs: Option<HubTable>,
    /// Standards / access table, when computed.
    pub access: Option<Table>,
    /// Other output files of the run.
    pub files: Vec<FileLink>,
    /// The map, from [`super::svg::render_svg`], inlined as is.
    pub map_svg: Option<String>,
    /// Free notes (method, caveats), one paragraph each.
    pub notes: Vec<String>,
}

const CSS: &str = "
body{font-family:'DejaVu Sans','Noto Sans',Arial,sans-serif;margin:0 auto;max-width:1100px;padding:16px 24px;color:#222;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin:0.2em 0 0.4em}
h2{font-size:1.25em;margin:1.4em 0 0.5em;border-bottom:1px solid #ccc;padding-bottom:0.2em}
h3{font-size:1.05em;margin:1em 0 0.4em}
table{border-collapse:collapse;margin:0.4em 0 1em;font-size:0.92em}
th,td{border:1px solid #c8c8c8;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4}
tbody tr:nth-child(even){background:#f8f9fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,.sha{font-family:'DejaVu Sans Mono',monospace;font-size:0.9em;word-break:break-all}
figure{margin:0}
svg.bz-map{max-width:100%;height:auto;border:1px solid #ddd}
.meta th{width:12em}
footer{margin-top:2em;color:#666;font-size:0.85em}
@media print{body{max-width:none}h2{break-after:avoid}table,figure{break-inside:avoid}}
";

fn num_td(s: &mut String, text: &str) {
    let _ = write!(s, r#"<td class="num">{}</td>"#, escape(text));
}

fn cell_td(s: &mut String, c: &Cell) {
    match c {
        Cell::Number(v) if v.is_finite() && v.fract() == 0.0 && *v >= 0.0 && *v < 1e15 => {
            num_td(s, &group_thousands(*v as u64))
        }
        Cell::Number(_) => num_td(s, &c.display()),
        _ => {
            let _ = write!(s, "<td>{}</td>", escape(&c.display()));
        }
    }
}

fn opt_u64(v: Option<u64>) -> String {
    v.map(group_thousands).unwrap_or_else(|| "—".into())
}

fn km(v: f64) -> String {
    Cell::Number(v).display()
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.1} %", 100.0 * part as f64 / whole as f64)
    }
}

fn links(s: &mut String, files: &[FileLink]) {
    if files.is_empty() {
        return;
    }
    s.push_str(r#"<ul class="files">"#);
    for f in files {
        let _ = write!(
            s,
            r#"<li><a href="{}">{}</a>"#,
            safe_href(&f.href),
            escape(&f.href)
        );
        if !f.description.is_empty() {
            let _ = write!(s, " — {}", escape(&f.description));
        }
        s.push_str("</li>");
    }
    s.push_str("</ul>");
}

fn counts_table(s: &mut String, class: &str, key_header: &str, counts: &[Count], in_zone: usize) {
    let _ = write!(
        s,
        r#"<table class="{class}"><thead><tr><th>{}</th><th class="num">settlements in zone</th><th class="num">share</th><th class="num">population</th></tr></thead><tbody>"#,
        escape(key_header)
    );
    for c in counts {
        let _ = write!(s, "<tr><td>{}</td>", escape(&c.key));
        num_td(s, &group_thousands(c.settlements as u64));
        num_td(s, &percent(c.settlements, in_zone));
        num_td(s, &opt_u64(c.population));
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
}

fn generic_table(s: &mut String, id: &str, header: &[String], rows: &[Vec<Cell>]) {
    let id = escape(id);
    let _ = write!(s, r#"<table id="{id}" class="{id}"><thead><tr>"#);
    // A column is numeric when every non-empty cell in it is a number.
    for (c, h) in header.iter().enumerate() {
        let numeric = rows
            .iter()
            .filter_map(|r| r.get(c))
            .filter(|x| !matches!(x, Cell::Empty))
            .count()
            > 0
            && rows
                .iter()
                .filter_map(|r| r.get(c))
                .all(|x| matches!(x, Cell::Number(_) | Cell::Empty));
        let _ = write!(
            s,
            "<th{}>{}</th>",
            if numeric { r#" class="num""# } else { "" },
            escape(h)
        );
    }
    s.push_str("</tr></thead><tbody>");
    for row in rows {
        s.push_str("<tr>");
        for c in 0..header.len().max(row.len()) {
            cell_td(s, row.get(c).unwrap_or(&Cell::Empty));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
}

/// Render the report as one self-contained HTML page.
///
/// Tables: `table.meta`, `table.summary` (one row per scenario),
/// `table.by-neighbour` / `table.by-admin` per scenario, `table.hubs`,
/// the access table under its [`Table::id`], `table.inputs`. The map is in
/// `<figure id="map-figure">`.
pub fn render_report(r: &Report) -> String {
    let mut s = String::with_capacity(64 * 1024 + r.map_svg.as_ref().map_or(0, String::len));
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>");
    s.push_str(r#"<meta name="viewport" content="width=device-width, initial-scale=1"/>"#);
    let _ = write!(
        s,
        r#"<meta name="generator" content="borderzone {}"/>"#,
        escape(&r.tool_version)
    );
    let _ = write!(
        s,
        "<title>{}</title><style>{CSS}</style></head>\n<body>",
        escape(&r.title)
    );

    // Header.
    let _ = write!(s, "<header><h1>{}</h1>", escape(&r.title));
    s.push_str(r#"<table class="meta"><tbody>"#);
    for (k, v) in [
        ("Run", &r.run_id),
        ("borderzone version", &r.tool_version),
        ("Generated", &r.generated_at),
    ] {
        let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", k, escape(v));
    }
    s.push_str("</tbody></table></header>\n");

    // Map.
    if let Some(svg) = &r.map_svg {
        s.push_str(r#"<section id="map-section"><h2>Map</h2><figure id="map-figure">"#);
        s.push_str(svg);
        s.push_str("</figure></section>\n");
    }

    // Summary.
    if !r.scenarios.is_empty() {
        s.push_str(r#"<section id="summary-section"><h2>Scenarios</h2><table id="summary" class="summary"><thead><tr><th>scenario</th><th class="num">zone width (km)</th><th>border with</th><th class="num">settlements in zone</th><th class="num">of measured</th><th class="num">share</th><th class="num">near the zone edge</th><th class="num">population in zone</th></tr></thead><tbody>"#);
        for sc in &r.scenarios {
            let neighbours = if sc.neighbours.is_empty() {
                "all neighbours".to_string()
            } else {
                sc.neighbours.join(", ")
            };
            let _ = write!(
                s,
                r##"<tr><td><a href="#scenario-{}">{}</a></td>"##,
                escape(&slug(&sc.name)),
                escape(&sc.name)
            );
            num_td(&mut s, &km(sc.distance_km));
            let _ = write!(s, "<td>{}</td>", escape(&neighbours));
            num_td(&mut s, &group_thousands(sc.settlements_in_zone as u64));
            num_td(&mut s, &group_thousands(sc.settlements_total as u64));
            num_td(
                &mut s,
                &percent(sc.settlements_in_zone, sc.settlements_total),
            );
            num_td(&mut s, &opt_u64(sc.settlements_near_line.map(|v| v as u64)));
            num_td(&mut s, &opt_u64(sc.population_in_zone));
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></section>\n");

        for sc in &r.scenarios {
            let _ = write!(
                s,
                r#"<section class="scenario" id="scenario-{}"><h3>{}: within {} km of the border</h3>"#,
                escape(&slug(&sc.name)),
                escape(&sc.name),
                escape(&km(sc.distance_km))
            );
            if !sc.by_neighbour.is_empty() {
                counts_table(
                    &mut s,
                    "by-neighbour",
                    "nearest neighbour",
                    &sc.by_neighbour,
                    sc.settlements_in_zone,
                );
            }
            if !sc.by_admin.is_empty() {
                counts_table(
                    &mut s,
                    "by-admin",
                    "admin unit",
                    &sc.by_admin,
                    sc.settlements_in_zone,
                );
            }
            links(&mut s, &sc.files);
            s.push_str("</section>\n");
        }
    }

    // Hubs.
    if let Some(h) = &r.hubs {
        s.push_str(
            r#"<section id="hubs-section"><h2>Logistics hub candidates</h2><table id="hubs" class="hubs"><thead><tr><th class="num">rank</th><th>settlement</th><th class="num">score</th>"#,
        );
        for f in &h.factor_names {
            let _ = write!(s, "<th>{}</th>", escape(f));
        }
        s.push_str("</tr></thead><tbody>");
        for row in &h.rows {
            let _ = write!(s, r#"<tr data-rank="{}">"#, row.rank);
            num_td(&mut s, &row.rank.to_string());
            let _ = write!(s, "<td>{}</td>", escape(&row.name));
            cell_td(&mut s, &Cell::Number(row.score));
            for c in 0..h.factor_names.len().max(row.factors.len()) {
                cell_td(&mut s, row.factors.get(c).unwrap_or(&Cell::Empty));
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></section>\n");
    }

    // Access / standards.
    if let Some(t) = &r.access {
        let _ = write!(
            s,
            r#"<section id="{}-section"><h2>{}</h2>"#,
            escape(&t.id),
            escape(if t.title.is_empty() {
                "Access to services"
            } else {
                &t.title
            })
        );
        generic_table(&mut s, &t.id, &t.header, &t.rows);
        s.push_str("</section>\n");
    }

    // Files.
    if !r.files.is_empty() {
        s.push_str(r#"<section id="files-section"><h2>Output files</h2>"#);
        links(&mut s, &r.files);
        s.push_str("</section>\n");
    }

    // Inputs and parameters.
    if !r.inputs.is_empty() || !r.parameters.is_empty() {
        s.push_str(r#"<section id="inputs-section"><h2>Inputs</h2>"#);
        if !r.inputs.is_empty() {
            s.push_str(r#"<table id="inputs" class="inputs"><thead><tr><th>file</th><th class="num">features</th><th>SHA-256</th></tr></thead><tbody>"#);
            for f in &r.inputs {
                let _ = write!(s, "<tr><td><code>{}</code></td>", escape(&f.path));
                num_td(
                    &mut s,
                    &f.features
                        .map(|n| group_thousands(n as u64))
                        .unwrap_or_default(),
                );
                let _ = write!(s, r#"<td class="sha">{}</td></tr>"#, escape(&f.sha256));
            }
            s.push_str("</tbody></table>");
        }
        if !r.parameters.is_empty() {
            s.push_str(
                r#"<table id="parameters" class="parameters"><thead><tr><th>parameter</th><th>value</th></tr></thead><tbody>"#,
            );
            for (k, v) in &r.parameters {
                let _ = write!(
                    s,
                    "<tr><td><code>{}</code></td><td>{}</td></tr>",
                    escape(k),
                    escape(v)
                );
            }
            s.push_str("</tbody></table>");
        }
        s.push_str("</section>\n");
    }

    // Notes.
    if !r.notes.is_empty() {
        s.push_str(r#"<section id="notes-section"><h2>Notes</h2>"#);
        for n in &r.notes {
            let _ = write!(s, "<p>{}</p>", escape(n));
        }
        s.push_str("</section>\n");
    }

    let _ = write!(
        s,
        "<footer>Generated by borderzone {} — distances are WGS84 ellipsoidal geodesics; the map is for orientation only.</footer>\n</body></html>\n",
        escape(&r.tool_version)
    );
    s
}

/// Render `report` and write it at `path` through `out` (committed with the
/// rest of the run).
///
/// # Errors
/// An unwritable file.
pub fn write_report(out: &mut OutputSet, path: &Path, report: &Report) -> Result<()> {
    out.write_bytes(path, render_report(report).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(escape("Қорғас\u{1}"), "Қорғас ");
    }

    #[test]
    fn hrefs_cannot_carry_a_scheme() {
        assert_eq!(safe_href("javascript:alert(1)"), "./javascript:alert(1)");
        assert_eq!(
            safe_href("lists/eligible_china_20km.csv"),
            "lists/eligible_china_20km.csv"
        );
        assert_eq!(safe_href("a?b:c"), "a?b:c");
    }

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1234567), "1\u{202F}234\u{202F}567");
    }
}
