#![no_main]
//! The OSM PBF road reader (header check, two passes, graph build).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = borderzone_fuzz::scratch(data, "osm.pbf");
    let _ = borderzone::network::osm_pbf::read_roads(
        &p,
        &Default::default(),
        &borderzone::network::SpeedTable::default(),
    );
});
