//! `borderzone run` on the embedded data: every deliverable, and the China
//! list equal to the zone job's membership.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{embedded, read_csv, temp_dir};

#[test]
fn run_produces_every_deliverable_consistent_with_zone() {
    let out = temp_dir("run-batch");
    let o = Command::new(env!("CARGO_BIN_EXE_borderzone"))
        .args(["run", "--quiet", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for s in ["china_20km", "all_20km", "all_10km", "all_30km"] {
        for f in [
            format!("eligible_{s}.csv"),
            format!("eligible_{s}.xlsx"),
            format!("near_line_{s}.csv"),
            format!("zone_{s}.geojson"),
        ] {
            assert!(out.join(&f).is_file(), "{f} missing");
        }
    }
    for f in [
        "settlements.geojson",
        "settlements.csv",
        "hubs.geojson",
        "hubs.csv",
        "crossings.geojson",
        "summary.csv",
        "access.csv",
        "standards.csv",
        "manifest.json",
        "report.html",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }

    // The China 20 km eligibility list is exactly the zone job's membership.
    let zone_out = temp_dir("run-batch-zone");
    let settlements = embedded("settlements_geonames.geojson");
    let border = embedded("border_lines.geojson");
    let o = Command::new(env!("CARGO_BIN_EXE_borderzone"))
        .args([
            "zone",
            "--border",
            border.to_str().unwrap(),
            "--neighbour",
            "CHN",
            "--settlements",
        ])
        .arg(&settlements)
        .args([
            "--id-field",
            "geonameid",
            "--out",
            zone_out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, zone_rows) = read_csv(&zone_out.join("settlements.csv"));
    let in_zone: BTreeSet<String> = zone_rows
        .iter()
        .filter(|r| r[6] == "true")
        .map(|r| r[0].clone())
        .collect();
    let (header, list) = read_csv(&out.join("eligible_china_20km.csv"));
    let id = header
        .iter()
        .position(|h| h.trim_start_matches('\u{feff}') == "id")
        .unwrap();
    let listed: BTreeSet<String> = list.iter().map(|r| r[id].clone()).collect();
    assert_eq!(listed, in_zone);
    assert!(
        listed.contains("1522684"),
        "Khorgos (GeoNames 1522684) is eligible"
    );

    // Every row carries the reason, rule version and run id of the manifest.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let run_id = manifest["run_id"].as_str().unwrap();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    for r in &list {
        assert_eq!(r[col("run_id")], run_id);
        assert_eq!(r[col("reason_code")], "BZ-IN-POINT");
        assert!(r[col("border_distance_m")].parse::<f64>().unwrap() <= 20_000.0);
    }
    let inputs = manifest["inputs"].as_array().unwrap();
    assert!(inputs
        .iter()
        .all(|i| i["sha256"].as_str().unwrap().len() == 64));

    // Near-the-line rows are outside by at most the 1 km margin.
    let (h, near) = read_csv(&out.join("near_line_all_20km.csv"));
    let d = h.iter().position(|x| x == "border_distance_m").unwrap();
    for r in &near {
        let v: f64 = r[d].parse().unwrap();
        assert!(v > 20_000.0 && v <= 21_000.0, "{v}");
    }

    // The report is self-contained and shows the map and the tables.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("class=\"summary\""));
    for external in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "<script src",
        "<link ",
    ] {
        assert!(
            !html.contains(external),
            "report.html loads an external resource: {external}"
        );
    }
}
