#![no_main]
//! The CSV point reader (default column names), then identify / check /
//! measure.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = borderzone_fuzz::scratch(data, "csv");
    if let Ok(stream) = borderzone::io::csv::read_points(&p, &Default::default()) {
        borderzone_fuzz::exercise(stream);
    }
});
