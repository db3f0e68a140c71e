#![no_main]
//! The streaming GeoJSON FeatureCollection reader, then identify / check /
//! measure on every feature it yields.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = borderzone_fuzz::scratch(data, "geojson");
    if let Ok(stream) = borderzone::io::geojson::read_feature_collection(&p) {
        borderzone_fuzz::exercise(stream);
    }
});
