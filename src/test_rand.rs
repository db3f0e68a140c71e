//! Test inputs only: a deterministic pseudo-random sequence (SplitMix64),
//! so that generated test cases are the same on every run.

/// The next 64 random bits.
pub fn next_u64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The next number in [0, 1).
pub fn rand01(state: &mut u64) -> f64 {
    (next_u64(state) >> 11) as f64 / (1u64 << 53) as f64
}

/// A random-walk polyline of `n` vertices from `start`: each step goes
/// east by `dx_min + dx_spread·u` degrees and north by
/// `dy_spread·(u′ − dy_centre)`.
pub fn random_walk(
    state: &mut u64,
    n: usize,
    start: (f64, f64),
    (dx_min, dx_spread): (f64, f64),
    (dy_spread, dy_centre): (f64, f64),
) -> Vec<geo::Coord<f64>> {
    let (mut x, mut y) = start;
    let mut line = Vec::with_capacity(n);
    for _ in 0..n {
        line.push(geo::Coord { x, y });
        x += dx_min + dx_spread * rand01(state);
        y += dy_spread * (rand01(state) - dy_centre);
    }
    line
}
