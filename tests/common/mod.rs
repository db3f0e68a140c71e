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

#[path = "../../src/test_rand.rs"]
mod test_rand;
/// SplitMix64: seeded, reproducible pseudo-random numbers without a
/// dependency (GENERATED test inputs are the same on every run); the unit
/// tests' generator, shared.
#[allow(unused_imports)]
pub use test_rand::{next_u64 as split_mix64, rand01};
