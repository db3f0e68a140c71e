#![no_main]
//! The GeoJSON road reader (with end snapping), straight from memory.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = borderzone::network::geojson_roads::GeoJsonRoadOptions {
        snap_tolerance_m: 5.0,
        ..Default::default()
    };
    let _ = borderzone::network::geojson_roads::read_roads_from(
        data,
        std::path::Path::new("fuzz.geojson"),
        &opts,
        &borderzone::network::SpeedTable::default(),
    );
});
