//! The `borderzone` binary end to end.

mod common;

use std::path::Path;

use common::{borderzone, embedded, read_csv, temp_dir};

fn zone_args<'a>(settlements: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let border = Box::leak(
        embedded("border_lines.geojson")
            .display()
            .to_string()
            .into_boxed_str(),
    );
    let mut v = vec![
        "zone",
        "--border",
        border,
        "--settlements",
        settlements,
        "--out",
        out,
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn zone_writes_csv_and_geojson_for_china() {
    let out = temp_dir("cli-china");
    let settlements = embedded("settlements_geonames.geojson")
        .display()
        .to_string();
    let o = borderzone(
        &zone_args(
            &settlements,
            out.to_str().unwrap(),
            &["--neighbour", "chn", "--id-field", "geonameid"],
        ),
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (header, rows) = read_csv(&out.join("settlements.csv"));
    assert_eq!(
        &header[..7],
        &[
            "id",
            "name",
            "lon",
            "lat",
            "border_distance_m",
            "nearest_neighbour",
            "in_zone"
        ]
    );
    assert_eq!(rows.len(), 351);
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[1] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert_eq!(row("Khorgos")[6], "true");
    assert_eq!(row("Khorgos")[5], "CHN");
    assert_eq!(row("Narynkol")[6], "true");
    assert_eq!(row("Almaty")[6], "false");
    // Reference value (tests/reference/border_distances.csv): 1294.194059 m.
    assert_eq!(row("Khorgos")[4], "1294.194");
    let geojson: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("settlements.geojson")).unwrap()).unwrap();
    let feats = geojson["features"].as_array().unwrap();
    assert_eq!(feats.len(), 351);
    let k = feats
        .iter()
        .find(|f| f["properties"]["name"] == "Khorgos")
        .unwrap();
    assert_eq!(k["properties"]["in_zone"], true);
    assert_eq!(k["properties"]["border_distance_m"], 1294.194);
    assert_eq!(k["properties"]["geonameid"], 1522684);
}

#[test]
fn outputs_identical_with_one_and_two_threads() {
    let settlements = embedded("settlements_geonames.geojson")
        .display()
        .to_string();
    let mut files = Vec::new();
    for t in ["1", "2"] {
        let out = temp_dir(&format!("cli-threads-{t}"));
        let o = borderzone(
            &zone_args(
                &settlements,
                out.to_str().unwrap(),
                &["--id-field", "geonameid"],
            ),
            Some(t),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        files.push((
            std::fs::read(out.join("settlements.csv")).unwrap(),
            std::fs::read(out.join("settlements.geojson")).unwrap(),
        ));
    }
    assert!(
        files[0] == files[1],
        "outputs differ between 1 and 2 threads"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn bad_input_fails_cleanly_and_keeps_previous_outputs() {
    let out = temp_dir("cli-bad");
    std::fs::write(out.join("settlements.csv"), "previous").unwrap();
    let bad = write(
        &out,
        "bad.geojson",
        r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"id":"a"},"geometry":{"type":"Point","coordinates":[80,44]}},
            {"type":"Feature","properties":{"id":"b"},"geometry":{"type":"Point","coordinates":[80,144]}}]}"#,
    );
    let o = borderzone(
        &zone_args(&bad, out.to_str().unwrap(), &["--id-field", "id"]),
        None,
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.geojson") && err.contains("feature #1") && err.contains("144"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("settlements.csv")).unwrap(),
        "previous"
    );
    assert!(!out.join("settlements.geojson").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");

    let missing = out.join("nope.geojson").display().to_string();
    let o = borderzone(&zone_args(&missing, out.to_str().unwrap(), &[]), None);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope.geojson"));

    let o = borderzone(
        &zone_args(
            &bad,
            out.to_str().unwrap(),
            &["--id-field", "id", "--neighbour", "MNG"],
        ),
        None,
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("'MNG'") && err.contains("CHN"), "{err}");

    let noid = write(
        &out,
        "noid.geojson",
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Point","coordinates":[80,44]}}]}"#,
    );
    let o = borderzone(
        &zone_args(&noid, out.to_str().unwrap(), &["--id-field", "kato"]),
        None,
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("feature #0") && err.contains("'kato'"),
        "{err}"
    );
}

#[test]
fn csv_settlements_with_named_columns() {
    let out = temp_dir("cli-csv");
    let input = write(
        &out,
        "places.csv",
        "code,title,E,N\nK1,Қорғас,80.384232,44.22364\nA1,Алматы,76.9457275,43.2363924\n",
    );
    let o = borderzone(
        &zone_args(
            &input,
            out.to_str().unwrap(),
            &[
                "--id-field",
                "code",
                "--name-field",
                "title",
                "--lon-field",
                "E",
                "--lat-field",
                "N",
                "--neighbour",
                "CHN",
            ],
        ),
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, rows) = read_csv(&out.join("settlements.csv"));
    assert_eq!(rows[0][0], "K1");
    assert_eq!(rows[0][1], "Қорғас");
    assert_eq!(rows[0][6], "true");
    assert_eq!(rows[1][6], "false");
}

#[test]
fn distances_zone_and_none_give_the_same_membership_as_all() {
    let settlements = embedded("settlements_geonames.geojson")
        .display()
        .to_string();
    let dir = temp_dir("cli-distances");
    let run = |mode: &str| {
        let out = dir.join(mode).display().to_string();
        let o = borderzone(
            &zone_args(
                &settlements,
                &out,
                &["--id-field", "geonameid", "--distances", mode, "-q"],
            ),
            None,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        read_csv(&Path::new(&out).join("settlements.csv"))
    };
    let (h_all, all) = run("all");
    assert!(!h_all.contains(&"decided_by".to_string()));
    for mode in ["zone", "none"] {
        let (h, rows) = run(mode);
        let col = |name: &str| h.iter().position(|c| c == name).unwrap();
        let (zone, dist, by) = (col("in_zone"), col("border_distance_m"), col("decided_by"));
        assert_eq!(rows.len(), all.len());
        let mut by_cell = 0;
        for (r, a) in rows.iter().zip(&all) {
            assert_eq!(r[0], a[0]);
            assert_eq!(r[zone], a[zone], "{mode}: {}", r[0]);
            match (mode, r[zone].as_str()) {
                // In the zone: the same exact distance as the default run.
                ("zone", "true") => assert_eq!(r[dist], a[dist]),
                _ => assert_eq!(r[dist], "", "{mode}: {}", r[0]),
            }
            assert!(r[by] == "cell" || r[by] == "exact");
            by_cell += usize::from(r[by] == "cell");
        }
        assert!(by_cell > rows.len() / 2, "{mode}: {by_cell} by cell");
    }
}
