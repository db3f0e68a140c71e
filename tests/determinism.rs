//! The outputs do not depend on the number of threads: `borderzone run` on
//! the embedded data, and `borderzone zone` on the 9,899 OSM settlements
//! (when `../shared/data` is present), with RAYON_NUM_THREADS=1 and 2 give
//! byte-identical files — except `manifest.json`, which is compared without
//! its `timings_s` and `threads` keys.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use common::{embedded, shared, temp_dir};

fn spawn(args: &[&str], threads: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_borderzone"))
        .args(args)
        .arg("--quiet")
        .env("RAYON_NUM_THREADS", threads)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run borderzone")
}

fn wait_ok(child: Child) {
    let o = child.wait_with_output().expect("wait");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Every file of `dir`, by name, with the manifest's run-dependent keys
/// removed.
fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("output folder") {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let mut bytes = std::fs::read(e.path()).unwrap();
        if name == "manifest.json" {
            let mut v: serde_json::Value = serde_json::from_slice(&bytes).expect("manifest");
            let obj = v.as_object_mut().expect("object");
            assert!(obj.remove("timings_s").is_some(), "manifest has timings_s");
            assert!(obj.remove("threads").is_some(), "manifest has threads");
            bytes = serde_json::to_vec_pretty(&v).unwrap();
        }
        files.insert(name, bytes);
    }
    files
}

fn assert_same(one: &Path, two: &Path) {
    let (a, b) = (outputs(one), outputs(two));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "same files"
    );
    assert!(!a.is_empty());
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name} differs between 1 and 2 threads ({} vs {} bytes)",
            bytes.len(),
            b[name].len()
        );
    }
}

/// Run `args` (with `--out DIR` appended) with 1 and 2 threads at once and
/// compare the two output folders.
fn compare(args: &[&str], test: &str) {
    let dir = temp_dir(test);
    let outs: Vec<PathBuf> = ["1", "2"]
        .iter()
        .map(|t| dir.join(format!("t{t}")))
        .collect();
    let children: Vec<Child> = ["1", "2"]
        .iter()
        .zip(&outs)
        .map(|(t, out)| {
            let mut a = args.to_vec();
            a.extend(["--out", out.to_str().unwrap()]);
            spawn(&a, t)
        })
        .collect();
    children.into_iter().for_each(wait_ok);
    assert_same(&outs[0], &outs[1]);
}

#[test]
fn batch_run_is_identical_with_one_and_two_threads() {
    let cfg = embedded("analysis.toml");
    compare(&["run", cfg.to_str().unwrap()], "det-run");
}

#[test]
fn zone_on_osm_settlements_is_identical_with_one_and_two_threads() {
    let Some(settlements) = shared("kz-extra/settlements_osm.geojson") else {
        return;
    };
    let border = embedded("border_lines.geojson");
    compare(
        &[
            "zone",
            "--border",
            border.to_str().unwrap(),
            "--settlements",
            settlements.to_str().unwrap(),
        ],
        "det-zone-osm",
    );
}
