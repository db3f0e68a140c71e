//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// A file of the embedded data (`data/kz/`).
pub fn embedded(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/kz")
        .join(name)
}

/// A file under `../shared/data/`, or `None` (with a printed notice) when
/// the shared data folder is not beside the checkout.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: {} not found (../shared/data is absent)",
            p.display()
        );
        None
    }
}

#[path = "../../src/test_dir.rs"]
mod test_dir;
pub use test_dir::TempDir;

/// A fresh, empty [`TempDir`] named after the test and this process.
pub fn temp_dir(name: &str) -> TempDir {
    TempDir::new(name)
}

/// Parse a CSV file into header + rows.
pub fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).expect("open csv");
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("row").iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Run the `borderzone` binary, optionally with `RAYON_NUM_THREADS`.
pub fn borderzone(args: &[&str], threads: Option<&str>) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_borderzone"));
    cmd.args(args);
    if let Some(t) = threads {
        cmd.env("RAYON_NUM_THREADS", t);
    }
    cmd.output().expect("run borderzone")
}

/// SplitMix64: seeded, reproducible pseudo-random numbers without a
/// dependency (GENERATED test inputs are the same on every run).
pub fn split_mix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// [`split_mix64`] as a number in [0, 1).
pub fn rand01(state: &mut u64) -> f64 {
    (split_mix64(state) >> 11) as f64 / (1u64 << 53) as f64
}
