//! Helpers shared by the fuzz targets: the readers take paths, so each input
//! is written to a per-process scratch file first.

use std::path::PathBuf;
use std::sync::OnceLock;

use borderzone::io::InputFeature;
use borderzone::settlement::{IdentityFields, LayerCheck};
use borderzone::zone::{measure, Border, BorderIndex, PolygonMode};

/// Write `data` to the scratch file with extension `ext` and return its path.
pub fn scratch(data: &[u8], ext: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bz-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let p = dir.join(format!("input.{ext}"));
    std::fs::write(&p, data).expect("scratch file");
    p
}

/// A small border (two neighbours), built once.
pub fn border() -> &'static BorderIndex {
    static B: OnceLock<BorderIndex> = OnceLock::new();
    B.get_or_init(|| {
        let p = scratch(
            br#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"neighbour":"CHN"},"geometry":{"type":"LineString","coordinates":[[80.0,43.0],[80.3,44.0],[80.8,45.0]]}},
{"type":"Feature","properties":{"neighbour":"KGZ"},"geometry":{"type":"MultiLineString","coordinates":[[[74.0,42.8],[76.0,42.9]],[[76.0,42.9],[78.0,42.5]]]}}]}"#,
            "border.geojson",
        );
        BorderIndex::build(&Border::read(&p, "neighbour").expect("border"))
    })
}

/// What the zone job does with each feature: identify, check, measure in
/// every polygon mode. Errors are fine; panics are findings.
pub fn exercise(features: impl Iterator<Item = borderzone::Result<InputFeature>>) {
    let identity = IdentityFields::default();
    let mut check = LayerCheck::new(None, "name");
    let path = std::path::Path::new("fuzz");
    for f in features {
        let Ok(f) = f else { break };
        let Ok(s) = identity.identify(f, path) else {
            continue;
        };
        check.add(&s);
        for mode in [PolygonMode::AnyPart, PolygonMode::Centroid] {
            let _ = measure(border(), &s.feature.geometry, mode);
        }
    }
    let _ = check.finish(path);
}
