//! The report deliverables: SVG map, HTML report, XLSX tables.
//!
//! Fixtures are the embedded Kazakh layers in `data/kz/` (see
//! `data/README.md`). The headless-browser check runs
//! `tests/report_chromium.sh` when `/usr/bin/chromium` exists.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use borderzone::geodesy::distance_m;
use borderzone::io::atomic::OutputSet;
use borderzone::io::{property_text, read_all, ReadOptions};
use borderzone::jobs::zone::read_area;
use borderzone::report::html::{
    render_report, Count, FileLink, HubRow, HubTable, InputFile, Report, ScenarioSummary, Table,
};
use borderzone::report::svg::{
    multipolygon_path, projection_for, render_svg, simplify_ring_px, write_svg, MapLayers,
    MapOptions, MapPoint, PointStatus, Projection, ZoneLayer, TITLE_PX,
};
use borderzone::report::xlsx::{write_table_xlsx, Cell};
use borderzone::zone::strip::{clip_to, zone_band};
use borderzone::zone::{Border, BorderIndex};
use geo::{coord, Coord, CoordsIter, Geometry, LineString, MultiPolygon, Polygon, Rect, Simplify};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/kz")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report_html")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---------------------------------------------------------------- XML check

/// One element of a parsed document.
#[derive(Debug, Clone)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    /// Concatenated text directly inside (entities resolved).
    text: String,
}

impl Element {
    fn class_has(&self, class: &str) -> bool {
        self.attrs
            .get("class")
            .is_some_and(|c| c.split_whitespace().any(|x| x == class))
    }
}

/// Parse `doc` as XML (HTML5 doctype allowed): every tag closed in order,
/// attributes well-formed and unique, only the five XML entities and
/// character references. Returns the elements in document order.
fn parse_xml(doc: &str) -> Vec<Element> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(doc);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<usize> = Vec::new();
    let mut elements: Vec<Element> = Vec::new();
    let open = |e: &quick_xml::events::BytesStart, elements: &mut Vec<Element>| {
        let mut attrs = BTreeMap::new();
        for a in e.attributes() {
            let a = a.unwrap_or_else(|err| panic!("bad attribute: {err}"));
            let key = a.key.0.to_string();
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .unwrap_or_else(|err| panic!("bad attribute value: {err}"))
                .into_owned();
            assert!(
                attrs.insert(key.clone(), value).is_none(),
                "duplicate attribute {key}"
            );
        }
        elements.push(Element {
            name: e.name().0.to_string(),
            attrs,
            text: String::new(),
        });
        elements.len() - 1
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let i = open(&e, &mut elements);
                stack.push(i);
            }
            Ok(Event::Empty(e)) => {
                open(&e, &mut elements);
            }
            Ok(Event::End(e)) => {
                let i = stack.pop().expect("end tag without start");
                assert_eq!(elements[i].name, e.name().0);
            }
            Ok(Event::Text(t)) => {
                if let Some(&i) = stack.last() {
                    elements[i].text.push_str(&t.xml10_content());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let name = r.xml10_content().into_owned();
                let resolved = match name.as_str() {
                    "amp" => "&".to_string(),
                    "lt" => "<".into(),
                    "gt" => ">".into(),
                    "quot" => "\"".into(),
                    "apos" => "'".into(),
                    n if n.starts_with("#x") => {
                        char::from_u32(u32::from_str_radix(&n[2..], 16).unwrap())
                            .unwrap()
                            .to_string()
                    }
                    n if n.starts_with('#') => {
                        char::from_u32(n[1..].parse().unwrap()).unwrap().to_string()
                    }
                    n => panic!("entity &{n}; is not XML"),
                };
                if let Some(&i) = stack.last() {
                    elements[i].text.push_str(&resolved);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at byte {}: {e}", reader.buffer_position()),
        }
    }
    assert!(
        stack.is_empty(),
        "unclosed elements: {:?}",
        stack.iter().map(|&i| &elements[i].name).collect::<Vec<_>>()
    );
    elements
}

fn count(elements: &[Element], name: &str, class: &str) -> usize {
    elements
        .iter()
        .filter(|e| e.name == name && e.class_has(class))
        .count()
}

// ---------------------------------------------------------------- fixtures

fn square(lon0: f64, lat0: f64, lon1: f64, lat1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(
        LineString(vec![
            coord! { x: lon0, y: lat0 },
            coord! { x: lon1, y: lat0 },
            coord! { x: lon1, y: lat1 },
            coord! { x: lon0, y: lat1 },
            coord! { x: lon0, y: lat0 },
        ]),
        vec![],
    )])
}

const EVIL: &str = r#"<script>alert("x")</script> & Co's"#;

fn small_layers() -> MapLayers {
    let mut eligible = MapPoint::new(65.0, 45.0, "Қорғас");
    eligible.status = PointStatus::Eligible;
    eligible.detail = "12.345 km to the border (CHN)".into();
    eligible.id = "1".into();
    let mut near = MapPoint::new(66.0, 46.0, "Жаркент");
    near.status = PointStatus::NearLine;
    let mut evil = MapPoint::new(67.0, 47.0, EVIL);
    evil.id = EVIL.into();
    let mut hub = MapPoint::new(64.0, 44.0, "Достық");
    hub.rank = Some(1);
    MapLayers {
        title: format!("Test map {EVIL}"),
        country: square(60.0, 40.0, 70.0, 50.0),
        zones: vec![ZoneLayer {
            scenario: EVIL.into(),
            area: square(60.0, 40.0, 61.0, 50.0),
        }],
        settlements: vec![eligible, near, evil],
        crossings: vec![MapPoint::new(61.0, 41.0, "Nur Zholy / Khorgos")],
        hubs: vec![hub],
    }
}

fn small_report(svg: String) -> Report {
    Report {
        title: format!("Border zone report {EVIL}"),
        run_id: "run-0001".into(),
        tool_version: "0.1.0".into(),
        generated_at: "2026-01-02 03:04 UTC".into(),
        parameters: vec![("zone.distance_km".into(), "20".into())],
        inputs: vec![InputFile {
            path: "data/kz/country.geojson".into(),
            sha256: "ab".repeat(32),
            features: Some(1),
        }],
        scenarios: vec![ScenarioSummary {
            name: "china_20km".into(),
            distance_km: 20.0,
            neighbours: vec!["CHN".into()],
            settlements_total: 351,
            settlements_in_zone: 12,
            settlements_near_line: Some(2),
            population_in_zone: Some(123_456),
            by_neighbour: vec![Count {
                key: "CHN".into(),
                settlements: 12,
                population: Some(123_456),
            }],
            by_admin: vec![Count {
                key: EVIL.into(),
                settlements: 3,
                population: None,
            }],
            files: vec![FileLink {
                href: "eligible_china_20km.csv".into(),
                description: "eligible settlements".into(),
            }],
        }],
        hubs: Some(HubTable {
            factor_names: vec!["distance to crossing (km)".into(), "on railway".into()],
            rows: vec![HubRow {
                rank: 1,
                name: "Достық".into(),
                score: 0.875,
                factors: vec![Cell::Number(3.2), Cell::Bool(true)],
            }],
        }),
        access: Some(Table {
            id: "access".into(),
            title: "Road access to services".into(),
            header: vec!["settlement".into(), "hospital (km)".into()],
            rows: vec![
                vec![Cell::text(EVIL), Cell::Number(42.5)],
                vec![Cell::text("Үшарал"), Cell::Empty],
            ],
        }),
        files: vec![FileLink {
            href: "javascript:alert(1)".into(),
            description: "not a script".into(),
        }],
        map_svg: Some(svg),
        notes: vec![format!("note {EVIL}")],
    }
}

// ---------------------------------------------------------------- SVG

#[test]
fn projection_matches_hand_computation() {
    // Extent 60–70° E, 40–50° N: φ₀ = 45°, cos φ₀ = 0.707107; 960 px wide →
    // k = 960 / (10 · 0.707107) = 135.7645 px per degree of latitude.
    let proj = Projection::fit(
        Rect::new(coord! { x: 60.0, y: 40.0 }, coord! { x: 70.0, y: 50.0 }),
        960.0,
        20.0,
        56.0,
    );
    let k = 135.764_502;
    assert!(
        (proj.px_per_deg_lat - k).abs() < 1e-5,
        "{}",
        proj.px_per_deg_lat
    );
    assert!((proj.height_px - 1357.645).abs() < 1e-3);
    let close = |(x, y): (f64, f64), (ex, ey): (f64, f64)| {
        assert!(
            (x - ex).abs() < 1e-3 && (y - ey).abs() < 1e-3,
            "({x}, {y}) vs ({ex}, {ey})"
        )
    };
    close(proj.project(60.0, 50.0), (20.0, 56.0));
    close(proj.project(70.0, 40.0), (980.0, 56.0 + 1357.645));
    close(proj.project(65.0, 45.0), (500.0, 56.0 + 678.823));
    // One degree of longitude at the middle is 0.707107 · k = 96 px.
    close(proj.project(61.0, 45.0), (116.0, 56.0 + 678.823));
    let (lon, lat) = proj.unproject(500.0, 56.0 + 678.823);
    assert!((lon - 65.0).abs() < 1e-5 && (lat - 45.0).abs() < 1e-5);

    // The same through render_svg: the eligible settlement at (65, 45) is
    // drawn at x = 500, y = TITLE + margin + 678.8.
    let layers = small_layers();
    let svg = render_svg(&layers, &MapOptions::default());
    let els = parse_xml(&svg);
    let c = els
        .iter()
        .find(|e| e.name == "circle" && e.class_has("eligible"))
        .unwrap();
    assert_eq!(c.attrs["cx"], "500");
    assert_eq!(c.attrs["cy"], format!("{:.1}", TITLE_PX + 20.0 + 678.823));
}

#[test]
fn svg_is_well_formed_and_complete() {
    let layers = small_layers();
    let svg = render_svg(&layers, &MapOptions::default());
    assert_eq!(
        svg,
        render_svg(&layers, &MapOptions::default()),
        "deterministic"
    );
    let els = parse_xml(&svg);
    assert_eq!(els[0].name, "svg");
    assert_eq!(els[0].attrs["id"], "map");
    assert_eq!(els[0].attrs["xmlns"], "http://www.w3.org/2000/svg");
    assert_eq!(count(&els, "circle", "settlement"), 3);
    assert_eq!(count(&els, "circle", "eligible"), 1);
    assert_eq!(count(&els, "circle", "near-line"), 1);
    assert_eq!(count(&els, "circle", "outside"), 1);
    assert_eq!(count(&els, "g", "crossing"), 1);
    assert_eq!(count(&els, "g", "hub"), 1);
    assert_eq!(count(&els, "path", "zone"), 1);
    assert_eq!(count(&els, "path", "country"), 1);
    for id in [
        "country",
        "zones",
        "settlements",
        "crossings",
        "hubs",
        "legend",
        "scale-bar",
    ] {
        assert!(
            els.iter()
                .any(|e| e.attrs.get("id").map(String::as_str) == Some(id)),
            "#{id}"
        );
    }
    // Every settlement has a tooltip with its name.
    let titles: Vec<&str> = els
        .iter()
        .filter(|e| e.name == "title")
        .map(|e| e.text.as_str())
        .collect();
    assert!(
        titles.contains(&"Қорғас — 12.345 km to the border (CHN)"),
        "{titles:?}"
    );
    assert!(titles.contains(&EVIL));
    // Hub rank drawn next to the star.
    assert!(els
        .iter()
        .any(|e| e.name == "text" && e.text == "1. Достық"));
    // Escaping: the hostile name is text, never markup.
    assert!(!svg.contains("<script"), "raw <script> in the SVG");
    assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;s"));
    assert!(els.iter().all(|e| e.name != "script"));
}

#[test]
fn scale_bar_matches_the_geodesic_distance() {
    let country = read_area(&data("country.geojson")).unwrap();
    let layers = MapLayers {
        title: "Kazakhstan".into(),
        country,
        zones: vec![],
        settlements: vec![],
        crossings: vec![],
        hubs: vec![],
    };
    let opts = MapOptions::default();
    let proj = projection_for(&layers, &opts);
    assert!(
        (proj.lat0_deg - 48.0).abs() < 0.1,
        "Kazakhstan's middle latitude, got {}",
        proj.lat0_deg
    );
    let svg = render_svg(&layers, &opts);
    let els = parse_xml(&svg);
    let bar = els
        .iter()
        .find(|e| e.attrs.get("id").map(String::as_str) == Some("scale-bar"))
        .unwrap();
    let length_m: f64 = bar.attrs["data-length-m"].parse().unwrap();
    let outline = els
        .iter()
        .find(|e| e.class_has("scale-bar-outline"))
        .unwrap();
    let length_px: f64 = outline.attrs["width"].parse().unwrap();
    assert!(length_px > 50.0 && length_px < 300.0, "{length_px}");
    // The bar's two ends, carried to the standard parallel, are length_m
    // apart on the ellipsoid.
    let y = proj.project(70.0, proj.lat0_deg).1;
    let (lon_a, lat_a) = proj.unproject(100.0, y);
    let (lon_b, lat_b) = proj.unproject(100.0 + length_px, y);
    let geodesic_m = distance_m(Coord { x: lon_a, y: lat_a }, Coord { x: lon_b, y: lat_b });
    let err = (geodesic_m - length_m).abs() / length_m;
    assert!(
        err < 0.01,
        "bar {length_m} m drawn {length_px} px = {geodesic_m} m on the ground ({:.3} %)",
        err * 100.0
    );
    // The label says the same length.
    let label = els
        .iter()
        .filter(|e| e.name == "text")
        .map(|e| e.text.clone())
        .find(|t| t.ends_with(" km"))
        .unwrap();
    assert_eq!(label, format!("{} km", length_m / 1000.0));
}

#[test]
fn simplification_bounds_the_vertex_count() {
    let country = read_area(&data("country.geojson")).unwrap();
    let input_vertices = country.coords_count();
    assert!(input_vertices > 30_000, "{input_vertices}");
    let extent = Rect::new(coord! { x: 46.0, y: 40.0 }, coord! { x: 88.0, y: 56.0 });
    let proj = Projection::fit(extent, 960.0, 20.0, 56.0);
    let (d, drawn) = multipolygon_path(&proj, &country, &MapOptions::default());
    // The outline is ~6,000 px long at this scale; a vertex every 0.5 px at
    // most would be 12,000; RDP keeps far fewer.
    assert!(drawn < 6_000, "{drawn} vertices drawn of {input_vertices}");
    assert!(drawn > 500, "the shape survives: {drawn}");
    assert!(d.len() < 80_000, "{} bytes of path data", d.len());
    // A finer tolerance keeps more, a coarser one fewer.
    let (_, fine) = multipolygon_path(
        &proj,
        &country,
        &MapOptions {
            simplify_px: 0.1,
            ..MapOptions::default()
        },
    );
    let (_, coarse) = multipolygon_path(
        &proj,
        &country,
        &MapOptions {
            simplify_px: 2.0,
            ..MapOptions::default()
        },
    );
    assert!(fine > drawn && drawn > coarse, "{fine} {drawn} {coarse}");
    // Faithful: the drawn vertices of the main outline are input vertices
    // (simplification only drops), and its area is kept within 0.5 %.
    let main = country
        .0
        .iter()
        .max_by_key(|p| p.exterior().0.len())
        .unwrap();
    let quantize = |c: &Coord<f64>| {
        let (x, y) = proj.project(c.x, c.y);
        ((x * 10.0).round() as i64, (y * 10.0).round() as i64)
    };
    let input: std::collections::HashSet<(i64, i64)> =
        main.exterior().0.iter().map(quantize).collect();
    let drawn_ring = simplify_ring_px(&proj, main.exterior(), 0.5, 2.0);
    assert!(drawn_ring.iter().all(|q| input.contains(q)));
    let shoelace = |pts: &[(f64, f64)]| {
        let n = pts.len();
        (0..n)
            .map(|i| pts[i].0 * pts[(i + 1) % n].1 - pts[(i + 1) % n].0 * pts[i].1)
            .sum::<f64>()
            .abs()
            / 2.0
    };
    let full: Vec<(f64, f64)> = main
        .exterior()
        .0
        .iter()
        .map(|c| proj.project(c.x, c.y))
        .collect();
    let kept: Vec<(f64, f64)> = drawn_ring
        .iter()
        .map(|&(x, y)| (x as f64 / 10.0, y as f64 / 10.0))
        .collect();
    let (a_full, a_kept) = (shoelace(&full), shoelace(&kept));
    assert!(
        (a_kept - a_full).abs() / a_full < 0.005,
        "area {a_kept} px² vs {a_full} px²"
    );
    let svg = render_svg(
        &MapLayers {
            title: String::new(),
            country: country.clone(),
            zones: vec![],
            settlements: vec![],
            crossings: vec![],
            hubs: vec![],
        },
        &MapOptions::default(),
    );
    assert!(svg.len() < 100_000, "{} bytes", svg.len());
}

// ---------------------------------------------------------------- HTML

#[test]
fn html_report_is_well_formed_self_contained_and_escaped() {
    let svg = render_svg(&small_layers(), &MapOptions::default());
    let html = render_report(&small_report(svg));
    assert_eq!(
        html,
        render_report(&small_report(render_svg(
            &small_layers(),
            &MapOptions::default()
        )))
    );
    assert!(html.starts_with("<!DOCTYPE html>"));
    let els = parse_xml(&html);
    assert_eq!(els[0].name, "html");
    // Self-contained: no external resource, no script.
    assert!(els
        .iter()
        .all(|e| e.name != "script" && e.name != "link" && e.name != "img" && e.name != "iframe"));
    for e in &els {
        for (k, v) in &e.attrs {
            assert!(k != "src", "external resource {v}");
            if k == "href" {
                assert!(
                    !v.contains("://") && !v.starts_with("javascript:"),
                    "href {v}"
                );
            }
        }
    }
    assert!(!html.contains("<script"));
    assert!(!html.contains("url("), "no CSS url()");
    // Tables.
    assert_eq!(count(&els, "table", "summary"), 1);
    assert_eq!(count(&els, "table", "by-neighbour"), 1);
    assert_eq!(count(&els, "table", "by-admin"), 1);
    assert_eq!(count(&els, "table", "hubs"), 1);
    assert_eq!(count(&els, "table", "access"), 1);
    assert_eq!(count(&els, "table", "inputs"), 1);
    assert_eq!(count(&els, "svg", "bz-map"), 1);
    // Summary row: counts, share, population with grouping.
    let summary_cells: Vec<&str> = {
        let start = els.iter().position(|e| e.class_has("summary")).unwrap();
        let end = els
            .iter()
            .position(|e| e.class_has("by-neighbour"))
            .unwrap();
        els[start..end]
            .iter()
            .filter(|e| e.name == "td")
            .map(|e| e.text.as_str())
            .collect()
    };
    assert_eq!(
        summary_cells,
        vec!["", "20", "CHN", "12", "351", "3.4 %", "2", "123\u{202F}456"]
    );
    // The first cell holds a link to the scenario section.
    assert!(els.iter().any(|e| e.name == "a"
        && e.attrs.get("href").map(String::as_str) == Some("#scenario-china_20km")));
    assert!(els
        .iter()
        .any(|e| e.attrs.get("id").map(String::as_str) == Some("scenario-china_20km")));
    // List links are relative.
    assert!(els.iter().any(|e| e.name == "a"
        && e.attrs.get("href").map(String::as_str) == Some("eligible_china_20km.csv")));
    assert!(els.iter().any(|e| e.name == "a"
        && e.attrs.get("href").map(String::as_str) == Some("./javascript:alert(1)")));
    // Hub row and Cyrillic.
    let hub_cells: Vec<&str> = {
        let start = els.iter().position(|e| e.class_has("hubs")).unwrap();
        els[start..]
            .iter()
            .filter(|e| e.name == "td")
            .take(5)
            .map(|e| e.text.as_str())
            .collect()
    };
    assert_eq!(hub_cells, vec!["1", "Достық", "0.875", "3.2", "yes"]);
    // The hostile string is text wherever it appears.
    assert!(els
        .iter()
        .any(|e| e.name == "title" && e.text == format!("Border zone report {EVIL}")));
    assert!(els.iter().any(|e| e.name == "td" && e.text == EVIL));
    // Metadata passed in, shown as is.
    for t in ["run-0001", "2026-01-02 03:04 UTC", &"ab".repeat(32)] {
        assert!(els.iter().any(|e| e.name == "td" && e.text == t), "{t}");
    }
}

#[test]
fn empty_report_is_well_formed() {
    let html = render_report(&Report::default());
    parse_xml(&html);
    let svg = render_svg(
        &MapLayers {
            title: String::new(),
            country: MultiPolygon(vec![]),
            zones: vec![],
            settlements: vec![],
            crossings: vec![],
            hubs: vec![],
        },
        &MapOptions::default(),
    );
    parse_xml(&svg);
}

// ---------------------------------------------------------------- XLSX

fn read_xlsx(path: &Path) -> (Vec<String>, Vec<Vec<calamine::Data>>) {
    use calamine::{open_workbook_from_rs, Reader, Xlsx};
    let bytes = std::fs::read(path).unwrap();
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let names = wb.sheet_names();
    let range = wb.worksheet_range(&names[0]).unwrap();
    (names, range.rows().map(|r| r.to_vec()).collect())
}

#[test]
fn xlsx_round_trip_keeps_cells_and_is_byte_identical() {
    use calamine::Data;
    let dir = scratch("xlsx");
    let header = ["id", "name", "border_distance_km", "in_zone", "note"];
    let rows = vec![
        vec![
            Cell::text("1520316"),
            Cell::text("Қорғас"),
            Cell::Number(1.234),
            Cell::Bool(true),
            Cell::text("=1+1"),
        ],
        vec![
            Cell::text("2"),
            Cell::text("Жаркент & <Панфилов>"),
            Cell::Number(31.5),
            Cell::Bool(false),
            Cell::Empty,
        ],
        vec![
            Cell::text("3"),
            Cell::text("Үшарал"),
            Cell::Number(f64::NAN),
        ],
    ];
    let a = dir.join("a.xlsx");
    let b = dir.join("b.xlsx");
    let mut out = OutputSet::new();
    write_table_xlsx(&mut out, &a, "china/20km", &header, &rows).unwrap();
    out.commit().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut out = OutputSet::new();
    write_table_xlsx(&mut out, &b, "china/20km", &header, &rows).unwrap();
    out.commit().unwrap();
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "byte-identical across runs"
    );

    let (names, got) = read_xlsx(&a);
    assert_eq!(names, vec!["china_20km"]);
    assert_eq!(got.len(), 4);
    let s = |v: &str| Data::String(v.into());
    assert_eq!(got[0], header.iter().map(|h| s(h)).collect::<Vec<_>>());
    assert_eq!(
        got[1],
        vec![
            s("1520316"),
            s("Қорғас"),
            Data::Float(1.234),
            Data::Bool(true),
            s("=1+1")
        ]
    );
    assert_eq!(
        got[2],
        vec![
            s("2"),
            s("Жаркент & <Панфилов>"),
            Data::Float(31.5),
            Data::Bool(false),
            Data::Empty
        ]
    );
    assert_eq!(
        got[3],
        vec![s("3"), s("Үшарал"), Data::Empty, Data::Empty, Data::Empty]
    );

    // Bold header, frozen pane and autofilter are in the sheet XML.
    let sheet = unzip_entry(&a, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<autoFilter ref="A1:E4"/>"#), "{sheet}");
    assert!(sheet.contains(r#"state="frozen""#) && sheet.contains(r#"topLeftCell="A2""#));
    assert!(sheet.contains("<cols>"));
    let styles = unzip_entry(&a, "xl/styles.xml");
    assert!(styles.contains("<b/>"));
    let core = unzip_entry(&a, "docProps/core.xml");
    assert!(core.contains("2000-01-01T00:00:00Z"), "{core}");
}

fn unzip_entry(path: &Path, name: &str) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn xlsx_rejects_too_many_columns() {
    let dir = scratch("xlsx-limits");
    let mut out = OutputSet::new();
    let row = vec![Cell::Empty; 16_385];
    let err = write_table_xlsx(&mut out, &dir.join("x.xlsx"), "x", &[], &[row]).unwrap_err();
    assert!(err.to_string().contains("do not fit"), "{err}");
}

// ---------------------------------------------------------------- real sample

/// A sample report from the embedded Kazakh data: the country, the 20 km
/// zone along China, settlements coloured by distance to the Chinese border,
/// the five crossings, three hub candidates.
fn sample_report() -> (String, String) {
    let country = read_area(&data("country.geojson")).unwrap();
    let border_path = data("border_lines.geojson");
    let china = Border::read(&border_path, "neighbour")
        .unwrap()
        .select(&["CHN".into()], &border_path)
        .unwrap();
    // A coarser copy of the border and country for the drawn strip only
    // (≈ 100 m tolerance, invisible at ~3 km per pixel): zone_band on the full
    // 11,000-vertex border takes seconds even in release.
    let mut coarse = china.clone();
    for part in &mut coarse.parts {
        part.coords = LineString(part.coords.clone()).simplify(0.001).0;
    }
    let coarse_country = country.simplify(0.001);
    let strip = clip_to(&zone_band(&coarse, 20_000.0), &coarse_country);
    let index = BorderIndex::build(&china);

    let mut settlements = Vec::new();
    let mut near: Vec<(f64, f64, MapPoint)> = Vec::new();
    let (mut in_zone, mut near_line, mut population_in_zone, mut total) =
        (0usize, 0usize, 0u64, 0usize);
    for f in read_all(
        &data("settlements_geonames.geojson"),
        &ReadOptions::default(),
    )
    .unwrap()
    {
        let Geometry::Point(p) = f.geometry else {
            continue;
        };
        total += 1;
        let name = property_text(&f.properties["name"]);
        let population = f
            .properties
            .get("population")
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        let nearest = index.nearest(p.0).unwrap();
        let d_km = nearest.distance_m / 1000.0;
        let mut mp = MapPoint::new(p.x(), p.y(), name);
        mp.detail = format!("{d_km:.3} km to the Chinese border, population {population}");
        mp.radius_px = MapPoint::radius_for_population(population);
        mp.id = property_text(&f.properties["geonameid"]);
        mp.status = if d_km <= 20.0 {
            in_zone += 1;
            population_in_zone += population as u64;
            PointStatus::Eligible
        } else if d_km <= 50.0 {
            near_line += 1;
            PointStatus::NearLine
        } else {
            PointStatus::Outside
        };
        if d_km <= 150.0 {
            near.push((population, d_km, mp.clone()));
        }
        settlements.push(mp);
    }
    near.sort_by(|a, b| b.0.total_cmp(&a.0));
    let hubs: Vec<MapPoint> = near
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, (_, _, p))| MapPoint {
            rank: Some(i as u32 + 1),
            ..p.clone()
        })
        .collect();
    let crossings: Vec<MapPoint> =
        read_all(&data("crossings_china.geojson"), &ReadOptions::default())
            .unwrap()
            .into_iter()
            .filter_map(|f| match f.geometry {
                Geometry::Point(p) => {
                    let name = property_text(&f.properties["name"]);
                    let short = name.split(" (").next().unwrap_or(&name).to_string();
                    let mut mp = MapPoint::new(p.x(), p.y(), short);
                    mp.detail = name;
                    Some(mp)
                }
                _ => None,
            })
            .collect();
    let layers = MapLayers {
        title: "Kazakhstan — 20 km border zone with China".into(),
        country,
        zones: vec![ZoneLayer {
            scenario: "china_20km".into(),
            area: strip,
        }],
        settlements,
        crossings,
        hubs: hubs.clone(),
    };
    let svg = render_svg(&layers, &MapOptions::default());
    let report = Report {
        title: "borderzone — sample report".into(),
        run_id: "sample".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        generated_at: "(test)".into(),
        scenarios: vec![ScenarioSummary {
            name: "china_20km".into(),
            distance_km: 20.0,
            neighbours: vec!["CHN".into()],
            settlements_total: total,
            settlements_in_zone: in_zone,
            settlements_near_line: Some(near_line),
            population_in_zone: Some(population_in_zone),
            by_neighbour: vec![Count {
                key: "CHN".into(),
                settlements: in_zone,
                population: Some(population_in_zone),
            }],
            by_admin: vec![],
            files: vec![FileLink {
                href: "eligible_china_20km.csv".into(),
                description: "eligible settlements".into(),
            }],
        }],
        hubs: Some(HubTable {
            factor_names: vec!["distance to the Chinese border (km)".into()],
            rows: near
                .iter()
                .take(3)
                .enumerate()
                .map(|(i, (pop, d, p))| HubRow {
                    rank: i as u32 + 1,
                    name: p.label.clone(),
                    score: *pop,
                    factors: vec![Cell::Number((d * 1000.0).round() / 1000.0)],
                })
                .collect(),
        }),
        map_svg: Some(svg.clone()),
        ..Report::default()
    };
    (render_report(&report), svg)
}

#[test]
fn sample_report_from_real_data() {
    let (html, svg) = sample_report();
    let els = parse_xml(&html);
    assert_eq!(count(&els, "circle", "settlement"), 351);
    assert!(count(&els, "circle", "eligible") > 0);
    assert_eq!(count(&els, "g", "crossing"), 5);
    assert_eq!(count(&els, "g", "hub"), 3);
    assert_eq!(count(&els, "path", "zone"), 1);
    assert!(svg.len() < 300_000, "map is {} bytes", svg.len());
    let dir = scratch("sample");
    let mut out = OutputSet::new();
    borderzone::report::layers::write_text(&mut out, &dir.join("report.html"), &html).unwrap();
    borderzone::report::layers::write_text(&mut out, &dir.join("map.svg"), &svg).unwrap();
    out.commit().unwrap();
    // The standalone SVG file is well-formed too.
    let mut out = OutputSet::new();
    let path = dir.join("small.svg");
    write_svg(&mut out, &path, &small_layers(), &MapOptions::default()).unwrap();
    out.commit().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("<?xml"));
    assert_eq!(parse_xml(&text)[0].name, "svg");
}

#[test]
fn chromium_renders_the_sample_report() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        eprintln!("SKIP chromium_renders_the_sample_report: /usr/bin/chromium not installed (apt-get install chromium)");
        return;
    }
    let (html, _) = sample_report();
    let dir = scratch("chromium");
    let page = dir.join("report.html");
    std::fs::write(&page, html).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report_chromium.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&page)
        .arg(dir.join("report.png"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "report_chromium.sh failed\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("OK"), "{stdout}");
}
