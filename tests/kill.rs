//! A run killed with SIGKILL at any moment leaves the previous outputs
//! intact and no half-written file under a final name. Temporary files
//! (`.NAME.PID.tmp`) may remain after SIGKILL; every final name holds either
//! the previous run's complete file or the new run's complete file.
//!
//! `OutputSet::commit` renames file by file: a kill between two renames
//! leaves a mix of old and new *whole* files (reported, not hidden here).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use common::temp_dir;

const POINTS: usize = 300_000;

fn border() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs/border.geojson")
}

/// A CSV of `n` points spread over the fixture border's neighbourhood
/// (SplitMix64, fixed seed).
fn write_points(path: &Path, n: usize) {
    let mut state = 7u64;
    let mut next = || common::rand01(&mut state);
    let mut text = String::with_capacity(n * 40);
    text.push_str("code,name,lon,lat\n");
    for i in 0..n {
        let (x, y) = (73.0 + 9.0 * next(), 41.0 + 5.0 * next());
        text.push_str(&format!("{i},p{i},{x:.6},{y:.6}\n"));
    }
    std::fs::write(path, text).unwrap();
}

fn command(input: &Path, out: &Path, distance_km: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_borderzone"));
    cmd.args(["zone", "--border"])
        .arg(border())
        .arg("--settlements")
        .arg(input)
        .args(["--id-field", "code", "--distance-km", distance_km, "--out"])
        .arg(out)
        .arg("--quiet")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Final files of `dir` (names not starting with '.'), and the others.
fn files(dir: &Path) -> (BTreeMap<String, Vec<u8>>, Vec<String>) {
    let mut finals = BTreeMap::new();
    let mut others = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            others.push(name);
        } else {
            finals.insert(name, std::fs::read(e.path()).unwrap());
        }
    }
    (finals, others)
}

#[test]
fn sigkill_never_leaves_a_partial_file_under_a_final_name() {
    let dir = temp_dir("kill");
    let input = dir.join("points.csv");
    write_points(&input, POINTS);

    // The previous outputs (20 km) and the complete new ones (30 km).
    let out = dir.join("out");
    let start = Instant::now();
    assert!(command(&input, &out, "20").status().unwrap().success());
    let full = start.elapsed();
    let (previous, _) = files(&out);
    let reference = dir.join("reference");
    let start = Instant::now();
    assert!(command(&input, &reference, "30")
        .status()
        .unwrap()
        .success());
    // The shorter of the two runs (the first may pay for a cold page
    // cache): the kills below are timed as fractions of it.
    let full = full.min(start.elapsed());
    let (new, _) = files(&reference);
    assert_eq!(
        previous.keys().collect::<Vec<_>>(),
        ["settlements.csv", "settlements.geojson"]
    );
    assert_ne!(previous, new, "the two runs differ");
    eprintln!("full run of {POINTS} points: {:.1} s", full.as_secs_f64());

    let mut killed_running = 0;
    for fraction in [0.05, 0.25, 0.5, 0.8, 0.95, 1.02] {
        let mut child = command(&input, &out, "30").spawn().unwrap();
        std::thread::sleep(full.mul_f64(fraction));
        if child.try_wait().unwrap().is_none() {
            killed_running += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let (finals, others) = files(&out);
        assert_eq!(
            finals.keys().collect::<Vec<_>>(),
            previous.keys().collect::<Vec<_>>(),
            "killed at {fraction}: final names"
        );
        for (name, bytes) in &finals {
            assert!(
                bytes == &previous[name] || bytes == &new[name],
                "killed at {fraction}: {name} is neither the previous nor the new complete file ({} bytes)",
                bytes.len()
            );
        }
        for name in &others {
            assert!(
                name.ends_with(".tmp")
                    && previous.keys().any(|f| name.starts_with(&format!(".{f}."))),
                "killed at {fraction}: unexpected file {name}"
            );
        }
        eprintln!(
            "killed at {:.0}% of a full run: {} temporary files left; {}",
            fraction * 100.0,
            others.len(),
            finals
                .iter()
                .map(|(n, b)| format!("{n} {}", if b == &previous[n] { "previous" } else { "new" }))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    assert!(
        killed_running >= 4,
        "only {killed_running} kills hit a running process"
    );
    // A run that is not killed leaves no temporary file.
    let (_, others) = files(&reference);
    assert!(others.is_empty(), "{others:?}");
}
