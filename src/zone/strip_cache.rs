//! A content-addressed cache of zone strips.
//!
//! A strip (the country's part within a distance of a border selection) is
//! the slow part of a batch run and depends only on the border's vertices,
//! the distance, the country outline and the construction itself. The cache
//! keys a strip by the SHA-256 of exactly those (every coordinate's bits,
//! the construction constants, the crate version) and stores its
//! coordinates bit for bit, with a SHA-256 of the payload: a cached strip is
//! byte-identical to a freshly built one, and a damaged or foreign file is
//! ignored (and rebuilt), never trusted.
//!
//! Location: `$BORDERZONE_CACHE_DIR`, else `$XDG_CACHE_HOME/borderzone`,
//! else `$HOME/.cache/borderzone`; `BORDERZONE_CACHE_DIR=off` disables it.
//! Files are written to a temporary name and renamed, so concurrent runs
//! never see half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use geo::{LineString, MultiPolygon, Polygon};
use sha2::{Digest, Sha256};

use super::border::Border;
use super::strip::{ARC_SAGITTA_M, CONSTRUCTION, DENSIFY_M};

const MAGIC: &[u8; 8] = b"BZSTRIP1";

/// Where strips are cached (or nowhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripCache {
    dir: Option<PathBuf>,
}

/// Where a strip came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StripSource {
    /// Read from the cache.
    Cache,
    /// Built (and stored, when the cache is on).
    Built,
}

impl StripCache {
    /// The cache in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        StripCache {
            dir: Some(dir.into()),
        }
    }

    /// No cache: every strip is built.
    pub fn off() -> Self {
        StripCache { dir: None }
    }

    /// The cache named by the environment (see the module docs).
    pub fn from_env() -> Self {
        match std::env::var_os("BORDERZONE_CACHE_DIR") {
            Some(v) if v == "off" || v.is_empty() => StripCache::off(),
            Some(v) => StripCache::in_dir(v),
            None => {
                let base = std::env::var_os("XDG_CACHE_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
                base.map_or_else(StripCache::off, |b| {
                    StripCache::in_dir(b.join("borderzone"))
                })
            }
        }
    }

    /// The folder, when the cache is on.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The key of the strip of `border` at `distance_m`, clipped to
    /// `country`.
    pub fn key(border: &Border, distance_m: f64, country: &MultiPolygon<f64>) -> String {
        let mut h = Sha256::new();
        h.update(b"borderzone zone strip\0");
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(CONSTRUCTION.as_bytes());
        for v in [DENSIFY_M, ARC_SAGITTA_M, distance_m] {
            h.update(v.to_bits().to_le_bytes());
        }
        h.update((border.parts.len() as u64).to_le_bytes());
        for part in &border.parts {
            h.update((part.coords.len() as u64).to_le_bytes());
            for c in &part.coords {
                h.update(c.x.to_bits().to_le_bytes());
                h.update(c.y.to_bits().to_le_bytes());
            }
        }
        h.update(encode(country));
        hex(&h.finalize())
    }

    /// The strip under `key`, from the cache or from `build` (then stored).
    /// A cache that cannot be read or written is only logged.
    pub fn get_or_build(
        &self,
        key: &str,
        build: impl FnOnce() -> MultiPolygon<f64>,
    ) -> (MultiPolygon<f64>, StripSource) {
        let Some(dir) = &self.dir else {
            return (build(), StripSource::Built);
        };
        let path = dir.join(format!("{key}.strip"));
        match std::fs::read(&path) {
            Ok(bytes) => match decode_file(&bytes) {
                Some(strip) => return (strip, StripSource::Cache),
                None => tracing::warn!(
                    "{}: damaged strip cache file, rebuilding the strip",
                    path.display()
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("{}: cannot read the strip cache: {e}", path.display()),
        }
        let strip = build();
        if let Err(e) = store(dir, &path, &strip) {
            tracing::warn!("{}: cannot write the strip cache: {e}", path.display());
        }
        (strip, StripSource::Built)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn store(dir: &Path, path: &Path, strip: &MultiPolygon<f64>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let payload = encode(strip);
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("strip"),
        std::process::id()
    ));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(MAGIC)?;
    f.write_all(&payload)?;
    f.write_all(&Sha256::digest(&payload))?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// Counts and coordinate bits, little-endian.
fn encode(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut put = |v: u64| out.extend_from_slice(&v.to_le_bytes());
    put(mp.0.len() as u64);
    for poly in &mp.0 {
        put(1 + poly.interiors().len() as u64);
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            put(ring.0.len() as u64);
            for c in &ring.0 {
                put(c.x.to_bits());
                put(c.y.to_bits());
            }
        }
    }
    out
}

fn decode_file(bytes: &[u8]) -> Option<MultiPolygon<f64>> {
    let body = bytes.strip_prefix(MAGIC)?;
    if body.len() < 32 {
        return None;
    }
    let (payload, digest) = body.split_at(body.len() - 32);
    if Sha256::digest(payload)[..] != *digest {
        return None;
    }
    let mut words = payload.chunks_exact(8).map(|w| {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        u64::from_le_bytes(b)
    });
    if payload.len() % 8 != 0 {
        return None;
    }
    let mut polys = Vec::new();
    for _ in 0..words.next()? {
        let rings = words.next()?;
        let mut rs = Vec::new();
        for _ in 0..rings {
            let n = words.next()?;
            let mut coords = Vec::with_capacity(n.min(1 << 24) as usize);
            for _ in 0..n {
                let x = f64::from_bits(words.next()?);
                let y = f64::from_bits(words.next()?);
                coords.push(geo::Coord { x, y });
            }
            rs.push(LineString(coords));
        }
        let mut rs = rs.into_iter();
        let exterior = rs.next()?;
        polys.push(Polygon::new(exterior, rs.collect()));
    }
    words.next().is_none().then_some(MultiPolygon(polys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::border::BorderPart;
    use geo::{polygon, Coord};

    fn border() -> Border {
        Border {
            parts: vec![BorderPart {
                neighbour: "CHN".into(),
                coords: vec![Coord { x: 80.0, y: 44.0 }, Coord { x: 80.3, y: 44.1 }],
                feature: 0,
            }],
        }
    }

    #[test]
    fn cached_strip_is_bit_identical_and_damage_is_rebuilt() {
        let tmp = crate::test_dir::TempDir::new("strip-cache");
        let dir = tmp.join("cache");
        let cache = StripCache::in_dir(&dir);
        let country = MultiPolygon(vec![polygon![
            (x: 79.0, y: 43.0), (x: 81.0, y: 43.0), (x: 81.0, y: 45.0), (x: 79.0, y: 45.0), (x: 79.0, y: 43.0)
        ]]);
        let b = border();
        let key = StripCache::key(&b, 20_000.0, &country);
        // Another distance or vertex gives another key.
        assert_ne!(key, StripCache::key(&b, 20_001.0, &country));
        let mut moved = border();
        moved.parts[0].coords[1].x = f64::from_bits(80.3f64.to_bits() + 1);
        assert_ne!(key, StripCache::key(&moved, 20_000.0, &country));

        let build = || crate::zone::strip::zone_strip(&b, 20_000.0, &country);
        let (built, src) = cache.get_or_build(&key, build);
        assert_eq!(src, StripSource::Built);
        let (cached, src) = cache.get_or_build(&key, || unreachable!("must come from the cache"));
        assert_eq!(src, StripSource::Cache);
        assert_eq!(encode(&built), encode(&cached));

        // One flipped byte: ignored and rebuilt (and rewritten).
        let path = dir.join(format!("{key}.strip"));
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let (again, src) = cache.get_or_build(&key, build);
        assert_eq!(src, StripSource::Built);
        assert_eq!(encode(&again), encode(&built));
        assert_eq!(cache.get_or_build(&key, build).1, StripSource::Cache);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
