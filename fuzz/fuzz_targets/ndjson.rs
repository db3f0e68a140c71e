#![no_main]
//! The newline-delimited GeoJSON reader, then identify / check / measure.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = borderzone_fuzz::scratch(data, "ndjson");
    if let Ok(stream) = borderzone::io::geojson::read_ndjson(&p) {
        borderzone_fuzz::exercise(stream);
    }
});
