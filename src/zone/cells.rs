//! Certified cells: a lon/lat quadtree, refined lazily where points fall,
//! whose cells are *proven* to lie wholly inside or wholly outside the zone.
//!
//! A cell is certified from one exact measurement at its centre `c` and a
//! proven bound `r` on how far any point of the cell is from `c`: by the
//! triangle inequality every point `p` of the cell has
//! `d(c) − r ≤ d(p) ≤ d(c) + r`, so the cell is inside the zone when
//! `d(c) + r ≤ width` and outside when `d(c) − r > width` (each with a
//! millimetre to spare for rounding). Cells that straddle the zone's edge are
//! split into four, down to [`MAX_LEVEL`] (≈ 50 m); points in the finest
//! straddling cells are measured exactly. The verdict for a point is a pure
//! function of the point (the cell it falls in), so results never depend on
//! the thread count or on the order of the points.
//!
//! The radius bound: for `p` in a cell with centre `c` and half-sizes Δλ,
//! Δφ (radians), follow the path from `c` to `p` that is straight in
//! longitude and latitude: `λ(t), φ(t)` linear in `t ∈ [0, 1]`, inside the
//! cell throughout. The ellipsoid's metric is
//! `ds² = (N cos φ)² dλ² + M² dφ²` (N the prime-vertical and M the
//! meridional radius of curvature), so the path's speed is at most
//! `√((P Δλ)² + (M⁺ Δφ)²)` everywhere on it, with P the largest `N cos φ`
//! over the cell's latitudes (the distance from the axis, at the latitude
//! nearest the equator) and M⁺ the largest M (at the latitude nearest a
//! pole). The geodesic is never longer than the path, so
//! `d(c, p) ≤ √((P Δλ)² + (M⁺ Δφ)²)`: the half-diagonal, within a fraction
//! of a percent for the small cells where most of the work is. (The bound
//! used before, along the parallel then the meridian, `P Δλ + M⁺ Δφ`, was
//! up to 40 % larger at Kazakh latitudes, and every cell within that much
//! more of the zone's edge straddled it.)
//!
//! # Storage
//!
//! The cells form a quadtree: a fixed array of the 90 × 45 level-0 cells
//! (4°) over the world, and below each cell that straddles the edge a block
//! of its four children, allocated when a point first falls there. A node is
//! three atomic words: the bits of its state (0 until certified), the
//! number of its block of children (0 until allocated) and, for a cell that
//! straddles, a hint for certifying its children (see `Hint`: about half of
//! them are then decided without a search). A lookup is a chain of atomic
//! loads — no lock, no hashing — over 16-byte nodes in 64-byte blocks (the
//! tree of the 1 M GENERATED benchmark points against the whole Kazakh
//! border is ≈ 36,500 blocks, 2.3 MB). Two threads may certify one cell at
//! the same moment; its certificate is a pure function of the cell and its
//! parent's hint (itself such a function, from the root down: a lookup
//! that finds its jump-table node not yet certified starts at the root),
//! so both store the same bits and the thread does not matter. Two threads
//! may also allocate children for one cell at the same moment: one block
//! is kept, the other left unused.
//!
//! Over the border's extent, a flat table of the cells of level 5
//! (0.125°) remembers, once a lookup has passed, either the verdict (when
//! that cell or an ancestor is decided: three quarters of the 1 M
//! benchmark points) or where that cell's node is, so that lookups start
//! there rather than at the root (see `JumpTable`).
//!
//! # Memory
//!
//! Only cells that straddle the edge have children, and only where points
//! fall. At most [`MAX_CHILD_BLOCKS`] blocks of four children are allocated
//! (64 bytes each, in segments of 4,096 blocks: at most 32 MB, plus 64 KB of
//! roots); a straddling cell that finds the budget spent certifies the cells
//! below it for each point without caching them. That costs time only: the
//! verdicts are the same.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

use geo::{BoundingRect, LineString};

use super::index::SegmentIndex;
use crate::geodesy::LonLat;

/// Size of the coarsest cells (degrees).
pub const LEVEL0_DEG: f64 = 4.0;
/// The finest level: cells of 4° / 2¹³ ≈ 0.00049° (≈ 54 m north–south).
pub const MAX_LEVEL: u32 = 13;
/// Safety margin on both certificates (m).
const MARGIN_M: f64 = 1e-3;
/// Level-0 columns (360° / 4°) and rows (180° / 4°).
const ROOT_COLS: u64 = 90;
const ROOT_ROWS: u64 = 45;
/// Most blocks of four children the tree allocates (see the module doc,
/// *Memory*): 2¹⁹ blocks, 2 M nodes, 32 MB.
pub const MAX_CHILD_BLOCKS: usize = 1 << 19;
/// Blocks per allocated segment (256 KB).
const SEGMENT_BLOCKS: usize = 1 << 12;
/// [`Node::children`] of a straddling cell that found the budget spent.
const NO_CHILDREN: u32 = u32::MAX;

/// What the cells say about a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Proven within the width; the point's distance is at most `upper_m`.
    Inside {
        /// Upper bound of the point's distance (m).
        upper_m: f64,
    },
    /// Proven farther than the width.
    Outside,
    /// Near the zone's edge: measure exactly.
    Undecided,
}

/// A certified cell: `upper_m` (the largest distance of any of its points,
/// rounded up to f32) when inside, or one of the two markers below.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CellState(f32);

const OUTSIDE: f32 = -1.0;
const STRADDLES: f32 = -2.0;

impl CellState {
    /// The verdict of a point in the cell; `None` when the cell straddles.
    fn decided(self) -> Option<Verdict> {
        match self.0 {
            OUTSIDE => Some(Verdict::Outside),
            STRADDLES => None,
            upper => Some(Verdict::Inside {
                upper_m: f64::from(upper),
            }),
        }
    }
}

/// One cell of the tree.
#[derive(Default)]
struct Node {
    /// The bits of the cell's [`CellState`] once certified, 0 before (no
    /// state is +0.0: an upper bound is rounded up by `next_up`).
    state: AtomicU32,
    /// 1 + the arena index of the block of its children, 0 before they are
    /// allocated, [`NO_CHILDREN`] when the budget was spent.
    children: AtomicU32,
    /// A straddling cell's [`Hint`] for its children ([`Hint::bits`]; 0:
    /// none), stored before its state.
    hint: AtomicU64,
}

/// The four children of a cell (south-west, south-east, north-west,
/// north-east), in one cache line.
#[derive(Default)]
#[repr(align(64))]
struct Block([Node; 4]);

/// What the certificate of a straddling cell leaves its children: a lower
/// bound of the distance at its centre and the segment that gave the
/// upper bound. A child's centre is at most half the parent's radius from
/// the parent's (the path straight in lon/lat, see the module doc), so the
/// distance is 1-Lipschitz: it is at least `lower_m − r_parent / 2` at the
/// child's centre, and at most the distance to that segment, bounded from
/// its chord. Often that decides the child without a search.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hint {
    /// Lower bound (m) of the distance at the cell's centre (as f32,
    /// rounded down).
    lower_m: f32,
    /// A segment within the upper bound of it.
    segment: u32,
}

impl Hint {
    fn new(lower_m: f64, segment: usize) -> Self {
        let lower_m = lower_m.max(0.0);
        let lower = lower_m as f32;
        Hint {
            // Rounded down: still a lower bound after the cast.
            lower_m: if f64::from(lower) > lower_m {
                lower.next_down()
            } else {
                lower
            },
            segment: u32::try_from(segment)
                .ok()
                .filter(|&s| s < u32::MAX)
                .expect("fewer than 2^32 - 1 segments"),
        }
    }

    /// The hint as one word: never 0 (the segment is stored + 1).
    fn bits(self) -> u64 {
        u64::from(self.lower_m.to_bits()) << 32 | (u64::from(self.segment) + 1)
    }

    fn from_bits(bits: u64) -> Option<Self> {
        (bits != 0).then(|| Hint {
            lower_m: f32::from_bits((bits >> 32) as u32),
            segment: (bits & 0xFFFF_FFFF) as u32 - 1,
        })
    }
}

/// Blocks of children, allocated a segment at a time.
struct Arena {
    segments: Box<[OnceLock<Box<[Block]>>]>,
    /// Blocks handed out so far.
    used: AtomicUsize,
    /// At most this many blocks are handed out.
    max_blocks: usize,
}

impl Arena {
    fn new(max_blocks: usize) -> Self {
        Arena {
            segments: (0..max_blocks.div_ceil(SEGMENT_BLOCKS))
                .map(|_| OnceLock::new())
                .collect(),
            used: AtomicUsize::new(0),
            max_blocks,
        }
    }

    /// A fresh block's index, or `None` when the budget is spent.
    fn allocate(&self) -> Option<u32> {
        let i = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max_blocks).then_some(n + 1)
            })
            .ok()?;
        self.segments[i / SEGMENT_BLOCKS].get_or_init(|| {
            (0..SEGMENT_BLOCKS)
                .map(|_| Block::default())
                .collect::<Box<[Block]>>()
        });
        Some(u32::try_from(i).expect("at most 2^20 blocks"))
    }

    /// Block `i`, handed out by [`Self::allocate`].
    fn block(&self, i: u32) -> &Block {
        let i = i as usize;
        let segment = self.segments[i / SEGMENT_BLOCKS]
            .get()
            .expect("an allocated block's segment exists");
        &segment[i % SEGMENT_BLOCKS]
    }
}

/// Certified cells for one border selection and one zone width.
pub struct ZoneCells<'a> {
    index: &'a SegmentIndex,
    width_m: f64,
    /// The level-0 cells, row by row from the south-west; shared by all
    /// threads.
    roots: Box<[Node]>,
    /// The blocks of children below them.
    arena: Arena,
    /// Shortcuts to the cells of [`JUMP_LEVEL`] over the border's extent.
    jump: Option<JumpTable>,
}

/// The level the [`JumpTable`] starts lookups at: cells of 0.125°.
const JUMP_LEVEL: u32 = 5;
/// At most this many entries (8 MB) in a [`JumpTable`].
const MAX_JUMP_ENTRIES: u64 = 1 << 20;
/// The tag of a jump entry (top two bits): not filled yet, the verdict of
/// a decided cell (the low 32 bits are its [`CellState`]), or the node of
/// the cell at [`JUMP_LEVEL`] (the low 32 bits are its block × 4 + child).
const JUMP_EMPTY: u64 = 0;
const JUMP_DECIDED: u64 = 1;
const JUMP_NODE: u64 = 2;

/// A flat table over the border's extent with one entry per cell of
/// [`JUMP_LEVEL`]: the verdict when the cell or an ancestor is decided,
/// else where its node is in the tree, filled when a lookup first passes.
/// A lookup then starts there instead of at the root: one load instead of
/// a chain of up to six dependent ones, each likely a cache miss (the
/// tree's blocks are allocated in the order points arrive). It only
/// shortens the walk: verdicts are the tree's.
struct JumpTable {
    /// Column and row (at [`JUMP_LEVEL`]) of the table's south-west cell.
    col0: u64,
    row0: u64,
    cols: u64,
    rows: u64,
    entries: Box<[AtomicU64]>,
}

impl JumpTable {
    /// A table over the lon/lat box of `index`'s segment ends, one cell of
    /// margin around; `None` for an empty index, a box across the
    /// antimeridian or one too large.
    fn over(index: &SegmentIndex) -> Option<Self> {
        let ends: Vec<LonLat> = index
            .segments()
            .iter()
            .flat_map(|seg| [seg.geodesic.a, seg.geodesic.b])
            .collect();
        let extent = LineString(ends).bounding_rect()?;
        let (min, max) = (extent.min(), extent.max());
        if max.x - min.x >= 180.0 {
            return None;
        }
        let (lo, hi) = (cell_of(min, JUMP_LEVEL), cell_of(max, JUMP_LEVEL));
        let (col0, row0) = (lo.0.saturating_sub(1), lo.1.saturating_sub(1));
        let cols = (hi.0 + 2).min(ROOT_COLS << JUMP_LEVEL) - col0;
        let rows = (hi.1 + 2).min(ROOT_ROWS << JUMP_LEVEL) - row0;
        if cols * rows > MAX_JUMP_ENTRIES {
            return None;
        }
        Some(JumpTable {
            col0,
            row0,
            cols,
            rows,
            entries: (0..cols * rows)
                .map(|_| AtomicU64::new(JUMP_EMPTY))
                .collect(),
        })
    }

    /// The entry of the cell at [`JUMP_LEVEL`] holding the finest cell
    /// (`fx`, `fy`), if the table covers it.
    fn entry(&self, fx: u64, fy: u64) -> Option<&AtomicU64> {
        let shift = MAX_LEVEL - JUMP_LEVEL;
        let (col, row) = (
            (fx >> shift).wrapping_sub(self.col0),
            (fy >> shift).wrapping_sub(self.row0),
        );
        (col < self.cols && row < self.rows)
            .then(|| &self.entries[(row * self.cols + col) as usize])
    }
}

impl std::fmt::Debug for ZoneCells<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoneCells")
            .field("width_m", &self.width_m)
            .field("child_blocks", &self.child_blocks())
            .field("max_child_blocks", &self.arena.max_blocks)
            .finish_non_exhaustive()
    }
}

/// Proven bound (m) on the distance from a cell's centre to any point of the
/// cell (see the module doc): `√((P Δλ)² + (M⁺ Δφ)²)`.
pub fn cell_radius_m(centre_lat_deg: f64, half_lon_deg: f64, half_lat_deg: f64) -> f64 {
    use crate::geodesy::{meridional_radius_m, prime_vertical_radius_m};
    let south = (centre_lat_deg - half_lat_deg).max(-90.0);
    let north = (centre_lat_deg + half_lat_deg).min(90.0);
    // N cos φ falls and M grows from the equator to the poles (d(N cos φ)/dφ
    // = −M sin φ; M = a (1 − e²) / (1 − e² sin²φ)^{3/2}).
    let nearest_equator = if south > 0.0 {
        south
    } else if north < 0.0 {
        north
    } else {
        0.0
    };
    let nearest_pole = south.abs().max(north.abs());
    let (s, c) = nearest_equator.to_radians().sin_cos();
    let parallel = prime_vertical_radius_m(s) * c.abs() * half_lon_deg.to_radians();
    let meridian = meridional_radius_m(nearest_pole.to_radians().sin()) * half_lat_deg.to_radians();
    parallel.hypot(meridian) * (1.0 + 1e-12)
}

fn cell_size_deg(level: u32) -> f64 {
    LEVEL0_DEG / f64::from(1u32 << level)
}

/// The column and row of `p`'s cell at `level` (the easternmost column and
/// northernmost row are closed: lon 180 and lat 90 fall in them).
///
/// Cell sizes are powers of two, so the division is exact and the cell at
/// `level` is the one at [`MAX_LEVEL`] shifted right by `MAX_LEVEL - level`
/// bits: the levels nest (`floor(t / 2ᵏ) = floor(floor(t) / 2ᵏ)`).
fn cell_of(p: LonLat, level: u32) -> (u64, u64) {
    let size = cell_size_deg(level);
    let cols = ROOT_COLS << level;
    let rows = ROOT_ROWS << level;
    // `as u64` truncates toward zero and saturates at 0 (NaN too): floor
    // for t ≥ 0, and 0 for any t < 0 as floor-then-cast gives; without the
    // library call to `floor` (not inlined on baseline x86-64).
    let ix = (((p.x + 180.0) / size) as u64).min(cols - 1);
    let iy = (((p.y + 90.0) / size) as u64).min(rows - 1);
    (ix, iy)
}

impl<'a> ZoneCells<'a> {
    /// Cells for `index` (the selected border) and a zone `width_m`.
    pub fn new(index: &'a SegmentIndex, width_m: f64) -> Self {
        Self::with_budget(index, width_m, MAX_CHILD_BLOCKS)
    }

    /// As [`Self::new`], allocating at most `max_child_blocks` blocks of
    /// children.
    fn with_budget(index: &'a SegmentIndex, width_m: f64, max_child_blocks: usize) -> Self {
        ZoneCells {
            index,
            width_m,
            roots: (0..ROOT_COLS * ROOT_ROWS)
                .map(|_| Node::default())
                .collect(),
            arena: Arena::new(max_child_blocks),
            jump: JumpTable::over(index),
        }
    }

    /// The verdict for `p` (a valid lon/lat).
    pub fn verdict(&self, p: LonLat) -> Verdict {
        let (fx, fy) = cell_of(p, MAX_LEVEL);
        let jump = self.jump.as_ref().and_then(|j| j.entry(fx, fy));
        let entry = jump.map_or(JUMP_EMPTY, |e| e.load(Ordering::Relaxed));
        if entry >> 62 == JUMP_DECIDED {
            return CellState(f32::from_bits(entry as u32))
                .decided()
                .expect("a jump entry holds a decided state");
        }
        // A node not certified yet is certified from the root down, with
        // its parent's hint: every cell's certificate is the same whichever
        // way it is reached.
        let jumped = (entry >> 62 == JUMP_NODE)
            .then(|| &self.arena.block((entry as u32) >> 2).0[(entry & 3) as usize])
            .filter(|node| node.state.load(Ordering::Acquire) != 0);
        let (mut node, first_level) = match jumped {
            Some(node) => (node, JUMP_LEVEL),
            None => {
                let (rx, ry) = (fx >> MAX_LEVEL, fy >> MAX_LEVEL);
                (&self.roots[(ry * ROOT_COLS + rx) as usize], 0)
            }
        };
        // The hint of `node`'s parent, for certifying `node` (none for a
        // root or a node reached through the jump table).
        let mut hint = None;
        for level in first_level..=MAX_LEVEL {
            let shift = MAX_LEVEL - level;
            let state = self.state(node, level, fx >> shift, fy >> shift, hint);
            if let Some(v) = state.decided() {
                if level <= JUMP_LEVEL {
                    if let Some(e) = jump {
                        let bits = u64::from(state.0.to_bits());
                        e.store(JUMP_DECIDED << 62 | bits, Ordering::Relaxed);
                    }
                }
                return v;
            }
            if level == MAX_LEVEL {
                break;
            }
            // This straddling cell's hint, for its child on the way.
            hint = Hint::from_bits(node.hint.load(Ordering::Relaxed));
            let Some((block, children)) = self.children(node) else {
                return self.verdict_uncached(p, level + 1, hint);
            };
            let (cx, cy) = (fx >> (shift - 1), fy >> (shift - 1));
            let child = (cy & 1) << 1 | (cx & 1);
            node = &children.0[child as usize];
            if level + 1 == JUMP_LEVEL {
                if let Some(e) = jump {
                    e.store(
                        JUMP_NODE << 62 | u64::from(block) << 2 | child,
                        Ordering::Relaxed,
                    );
                }
            }
        }
        Verdict::Undecided
    }

    /// Blocks of children allocated so far.
    pub fn child_blocks(&self) -> usize {
        self.arena.used.load(Ordering::Relaxed)
    }

    /// The state of `node`, the cell (`level`, `ix`, `iy`), certified now
    /// (with its parent's `hint`) if it was not yet. A straddling cell's
    /// own hint is stored before its state (release), so that whoever sees
    /// the state (acquire) sees the hint.
    fn state(&self, node: &Node, level: u32, ix: u64, iy: u64, hint: Option<Hint>) -> CellState {
        match node.state.load(Ordering::Acquire) {
            0 => {
                let (state, own) = self.certify(level, ix, iy, hint);
                if let Some(own) = own {
                    node.hint.store(own.bits(), Ordering::Relaxed);
                }
                node.state.store(state.0.to_bits(), Ordering::Release);
                state
            }
            bits => CellState(f32::from_bits(bits)),
        }
    }

    /// The children of a straddling `node` and their block's index,
    /// allocated now if they were not yet; `None` when the budget is spent.
    fn children(&self, node: &Node) -> Option<(u32, &Block)> {
        let mut current = node.children.load(Ordering::Acquire);
        if current == 0 {
            let fresh = self.arena.allocate().map_or(NO_CHILDREN, |i| i + 1);
            // Of two threads racing here, the first keeps its block.
            current =
                match node
                    .children
                    .compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => fresh,
                    Err(theirs) => theirs,
                };
        }
        (current != NO_CHILDREN).then(|| (current - 1, self.arena.block(current - 1)))
    }

    /// The verdict for `p` from `level` down, its cell there certified
    /// with its parent's `hint`, then every cell on the way with the hint
    /// of the one before (nothing cached): the same certificates as
    /// through the tree.
    fn verdict_uncached(&self, p: LonLat, level: u32, mut hint: Option<Hint>) -> Verdict {
        for level in level..=MAX_LEVEL {
            let (ix, iy) = cell_of(p, level);
            let (state, own) = self.certify(level, ix, iy, hint);
            if let Some(v) = state.decided() {
                return v;
            }
            hint = own;
        }
        Verdict::Undecided
    }

    /// The centre of the cell (`level`, `ix`, `iy`) and its radius.
    fn centre_and_radius(level: u32, ix: u64, iy: u64) -> (LonLat, f64) {
        let size = cell_size_deg(level);
        let centre = LonLat {
            x: -180.0 + (ix as f64 + 0.5) * size,
            y: -90.0 + (iy as f64 + 0.5) * size,
        };
        (centre, cell_radius_m(centre.y, size / 2.0, size / 2.0))
    }

    /// The state of a cell of radius `r` whose centre's distance d is
    /// known to lie in [lower, upper]: inside when d + r is within the
    /// width for every such d, outside when d − r is beyond it for every
    /// such d, straddling when neither holds for any; `None` when the
    /// interval allows two of these. A single exact distance (lower =
    /// upper) always decides. Whatever the interval, a state given is the
    /// one the exact d gives (the three are exclusive, and each holds for
    /// d when it holds for the whole interval): only an inside cell's
    /// bound depends on the interval.
    fn decide(&self, r: f64, lower: f64, upper: f64) -> Option<CellState> {
        let w = self.width_m;
        if upper + r + MARGIN_M <= w {
            // Rounded up: still an upper bound after the cast.
            Some(CellState(((upper + r + MARGIN_M) as f32).next_up()))
        } else if lower - r - MARGIN_M > w {
            Some(CellState(OUTSIDE))
        } else if lower + r + MARGIN_M > w && upper - r - MARGIN_M <= w {
            Some(CellState(STRADDLES))
        } else {
            None
        }
    }

    /// The state and, when it straddles, the hint of a cell decided from
    /// `lower`, `upper` (see [`Self::decide`]) and the segment behind
    /// `upper`.
    fn decided(
        &self,
        r: f64,
        lower: f64,
        upper: f64,
        segment: usize,
    ) -> Option<(CellState, Option<Hint>)> {
        let state = self.decide(r, lower, upper)?;
        let own = (state == CellState(STRADDLES)).then(|| Hint::new(lower, segment));
        Some((state, own))
    }

    /// The cell (`level`, `ix`, `iy`), its `centre` and radius `r`,
    /// certified from its parent's hint alone (see [`Hint`]), no search;
    /// `None` when that does not decide.
    fn certify_from_hint(
        &self,
        level: u32,
        (ix, iy): (u64, u64),
        (centre, r): (LonLat, f64),
        hint: Hint,
    ) -> Option<(CellState, Option<Hint>)> {
        let (_, parent_r) = Self::centre_and_radius(level.checked_sub(1)?, ix >> 1, iy >> 1);
        let lower = (f64::from(hint.lower_m) - 0.5 * parent_r).max(0.0);
        let segment = hint.segment as usize;
        let upper = self.index.upper_bound_via_m(centre, segment);
        self.decided(r, lower, upper, segment)
    }

    /// Certify one cell: from its parent's `hint` when that decides, else
    /// from the chord bracket of the distance at its centre, or the exact
    /// distance when the bracket cannot tell. A straddling cell's hint for
    /// its own children comes with it.
    fn certify(
        &self,
        level: u32,
        ix: u64,
        iy: u64,
        hint: Option<Hint>,
    ) -> (CellState, Option<Hint>) {
        let (centre, r) = Self::centre_and_radius(level, ix, iy);
        if let Some(done) =
            hint.and_then(|h| self.certify_from_hint(level, (ix, iy), (centre, r), h))
        {
            return done;
        }
        // Only distances up to width + r matter: beyond, the cell is out.
        let reach = self.width_m + r + MARGIN_M;
        // Most other cells are decided by the chord bracket of the
        // distance, without solving a geodesic; the exact distance is
        // measured only when a threshold falls inside the bracket (a
        // centimetre wide).
        match self.index.bracket_within(centre, reach) {
            None => return (CellState(OUTSIDE), None),
            Some(b) => {
                if let Some(done) = self.decided(r, b.lower_m, b.upper_m, b.segment) {
                    return done;
                }
            }
        }
        match self.index.nearest_within(centre, reach) {
            None => (CellState(OUTSIDE), None),
            // (Only a NaN distance could leave it undecided: straddling,
            // the cell's points are then measured one by one.)
            Some(n) => self
                .decided(r, n.distance_m, n.distance_m, n.segment)
                .unwrap_or((CellState(STRADDLES), Some(Hint::new(0.0, n.segment)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::{direct, distance_m};
    use geo::Coord;

    #[test]
    fn radius_bounds_every_corner_and_edge_point() {
        // Cells at several latitudes and sizes, one across the equator and
        // one at the pole: the bound holds for a grid of points over the
        // cell (corners and edges included, distances by Karney's method),
        // and is the half-diagonal to within `tight` (the larger the cell,
        // the more N cos φ and M change across it: 0.994 for 4° cells at
        // 45°, 0.99999 for the finest).
        for &(lat, size, tight) in &[
            (0.25, 0.5, 0.9999),
            (0.0, 4.0, 0.999),
            (45.0, 4.0, 0.99),
            (48.1, 0.001, 0.99999),
            (42.0 + 1.0 / 1024.0, 1.0 / 512.0, 0.99999),
            (79.0, 2.0, 0.99),
            (88.0, 4.0, 0.99),
            (-60.0, 0.25, 0.999),
        ] {
            let c = Coord { x: 70.0, y: lat };
            let r = cell_radius_m(lat, size / 2.0, size / 2.0);
            let mut worst: f64 = 0.0;
            for i in 0..=40 {
                for j in 0..=40 {
                    let p = Coord {
                        x: c.x - size / 2.0 + size * f64::from(i) / 40.0,
                        y: c.y - size / 2.0 + size * f64::from(j) / 40.0,
                    };
                    worst = worst.max(distance_m(c, p));
                }
            }
            assert!(worst <= r, "lat {lat} size {size}: {worst} > {r}");
            assert!(
                worst >= tight * r,
                "lat {lat} size {size}: {worst} < {tight} × {r}"
            );
        }
    }

    #[test]
    fn radius_is_tighter_than_the_parallel_then_meridian_path() {
        // The bound this replaced: along c's parallel, then the meridian,
        // with the largest meridional radius a / √(1 − e²). At Kazakh
        // latitudes the half-diagonal is ~28 % smaller.
        let old = |lat: f64, h: f64| {
            let (s, c) = lat.to_radians().sin_cos();
            crate::geodesy::prime_vertical_radius_m(s) * c * h.to_radians()
                + 6_399_593.626 * h.to_radians()
        };
        for lat in [41.0, 45.0, 48.0, 52.0, 55.0] {
            let h = 1.0 / 2048.0;
            let ratio = cell_radius_m(lat, h, h) / old(lat, h);
            assert!((0.70..0.74).contains(&ratio), "lat {lat}: {ratio}");
        }
    }

    #[test]
    fn verdicts_agree_with_exact_distances() {
        // A wiggly line; points scattered around it and a dense set within
        // ±300 m of the 20 km edge (normal offsets from the line).
        let mut line = Vec::new();
        for k in 0..200 {
            let t = f64::from(k) * 0.02;
            line.push(Coord {
                x: 75.0 + t,
                y: 45.0 + 0.1 * (7.0 * t).sin(),
            });
        }
        let idx = SegmentIndex::build([line.as_slice()]);
        let width = 20_000.0;
        let cells = ZoneCells::new(&idx, width);
        let mut pts = Vec::new();
        for i in 0..60 {
            for j in 0..40 {
                pts.push(Coord {
                    x: 73.0 + 0.13 * f64::from(i),
                    y: 43.5 + 0.08 * f64::from(j),
                });
            }
        }
        for (k, v) in line.iter().enumerate().skip(1).step_by(3) {
            let az = crate::geodesy::inverse(line[k - 1], *v).azimuth2_deg;
            for off in [-300.0, -20.0, -0.5, 0.5, 20.0, 300.0] {
                pts.push(direct(*v, az + 90.0, width + off).0);
                pts.push(direct(*v, az - 90.0, width + off).0);
            }
        }
        let (mut inside, mut outside, mut undecided) = (0, 0, 0);
        for p in pts {
            let exact = idx.nearest_brute_force(p).unwrap().distance_m;
            match cells.verdict(p) {
                Verdict::Inside { upper_m } => {
                    assert!(exact <= width && exact <= upper_m, "{p:?}: {exact}");
                    inside += 1;
                }
                Verdict::Outside => {
                    assert!(exact > width, "{p:?}: {exact}");
                    outside += 1;
                }
                Verdict::Undecided => undecided += 1,
            }
        }
        // Most points are decided by the cells; those near the edge are not.
        assert!(
            inside > 300 && outside > 1000,
            "{inside} {outside} {undecided}"
        );
        assert!(undecided > 100, "{undecided}");
    }

    /// The verdict by the definition: walk the levels and certify each cell
    /// of `p` afresh, with the hint of the one before (no tree, no cache).
    fn reference_verdict(cells: &ZoneCells<'_>, p: LonLat) -> Verdict {
        let mut hint = None;
        for level in 0..=MAX_LEVEL {
            let size = cell_size_deg(level);
            let ix = (((p.x + 180.0) / size).floor() as u64).min((360.0 / size) as u64 - 1);
            let iy = (((p.y + 90.0) / size).floor() as u64).min((180.0 / size) as u64 - 1);
            let (state, own) = cells.certify(level, ix, iy, hint);
            match state.0 {
                OUTSIDE => return Verdict::Outside,
                STRADDLES => {}
                upper => {
                    return Verdict::Inside {
                        upper_m: f64::from(upper),
                    }
                }
            }
            hint = own;
        }
        Verdict::Undecided
    }

    /// 0 outside, 1 straddling, 2 inside.
    fn kind(state: CellState) -> u8 {
        match state.0 {
            OUTSIDE => 0,
            STRADDLES => 1,
            _ => 2,
        }
    }

    #[test]
    fn hints_bound_the_childrens_distances_and_decide_as_searches_do() {
        // Every straddling cell on the way to points near a wiggly line,
        // certified by a search: its hint's bounds hold at each of its
        // children's centres (the brute-force distance lies between them),
        // and a child the hint decides gets the state a search gives it.
        let line = wiggly_line();
        let idx = SegmentIndex::build([line.as_slice()]);
        let cells = ZoneCells::new(&idx, 20_000.0);
        let (mut hinted, mut decided) = (0, 0);
        for p in points_near(&line, 150) {
            for level in 1..=MAX_LEVEL {
                let (px, py) = cell_of(p, level - 1);
                let (state, hint) = cells.certify(level - 1, px, py, None);
                if state != CellState(STRADDLES) {
                    break;
                }
                let h = hint.expect("a straddling cell leaves a hint");
                let (_, parent_r) = ZoneCells::centre_and_radius(level - 1, px, py);
                for (cx, cy) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let (ix, iy) = (2 * px + cx, 2 * py + cy);
                    let (centre, _) = ZoneCells::centre_and_radius(level, ix, iy);
                    let exact = idx.nearest_brute_force(centre).unwrap().distance_m;
                    let lower = f64::from(h.lower_m) - 0.5 * parent_r;
                    let upper = idx.upper_bound_via_m(centre, h.segment as usize);
                    assert!(
                        lower <= exact + 1e-6 && exact <= upper + 1e-6,
                        "{centre:?}: {lower} {exact} {upper}"
                    );
                    hinted += 1;
                    let (_, r) = ZoneCells::centre_and_radius(level, ix, iy);
                    if let Some((state, _)) =
                        cells.certify_from_hint(level, (ix, iy), (centre, r), h)
                    {
                        decided += 1;
                        let (searched, _) = cells.certify(level, ix, iy, None);
                        assert_eq!(kind(state), kind(searched), "{centre:?}");
                        if let Some(Verdict::Inside { upper_m }) = state.decided() {
                            assert!(upper_m >= exact && upper_m <= 20_000.0);
                        }
                    }
                }
            }
        }
        // The hints decide a good share of the children, not none.
        assert!(
            hinted > 1000 && decided * 4 > hinted,
            "{decided} of {hinted}"
        );
    }

    fn wiggly_line() -> Vec<LonLat> {
        (0..120)
            .map(|k| {
                let t = f64::from(k) * 0.02;
                Coord {
                    x: 79.0 + t,
                    y: 44.0 + 0.15 * (5.0 * t).cos(),
                }
            })
            .collect()
    }

    /// Points around the line, many near the 20 km edge, in a fixed
    /// pseudo-random order (SplitMix64).
    fn points_near(line: &[LonLat], n: usize) -> Vec<LonLat> {
        let mut state = 0x5EED_u64;
        let mut next = || crate::test_rand::rand01(&mut state);
        (0..n)
            .map(|_| {
                let v = line[(next() * line.len() as f64) as usize % line.len()];
                // Within ±0.4° of a vertex: inside, outside and near the edge.
                Coord {
                    x: v.x + 0.8 * next() - 0.4,
                    y: v.y + 0.8 * next() - 0.4,
                }
            })
            .collect()
    }

    #[test]
    fn tree_verdicts_equal_the_definition() {
        let line = wiggly_line();
        let idx = SegmentIndex::build([line.as_slice()]);
        let pts = points_near(&line, 4000);
        let cells = ZoneCells::new(&idx, 20_000.0);
        for &p in &pts {
            assert_eq!(cells.verdict(p), reference_verdict(&cells, p), "{p:?}");
        }
        // Asked again (now from the tree and its jump table): the same.
        for &p in &pts {
            assert_eq!(cells.verdict(p), reference_verdict(&cells, p), "{p:?}");
        }
        assert!(cells.child_blocks() > 100, "{}", cells.child_blocks());
        // Both kinds of jump entries were used.
        let jump = cells.jump.as_ref().expect("a table over the line");
        let tags: Vec<u64> = jump
            .entries
            .iter()
            .map(|e| e.load(Ordering::Relaxed) >> 62)
            .collect();
        assert!(tags.contains(&JUMP_DECIDED) && tags.contains(&JUMP_NODE));
    }

    #[test]
    fn spent_budget_changes_no_verdict() {
        let line = wiggly_line();
        let idx = SegmentIndex::build([line.as_slice()]);
        let pts = points_near(&line, 3000);
        for budget in [0, 1, 25] {
            let cells = ZoneCells::with_budget(&idx, 20_000.0, budget);
            for &p in &pts {
                assert_eq!(cells.verdict(p), reference_verdict(&cells, p), "{p:?}");
            }
            assert_eq!(cells.child_blocks(), budget);
        }
    }

    #[test]
    fn verdicts_do_not_depend_on_threads_or_order() {
        use rayon::prelude::*;
        let line = wiggly_line();
        let idx = SegmentIndex::build([line.as_slice()]);
        let pts = points_near(&line, 6000);
        let serial = ZoneCells::new(&idx, 20_000.0);
        let expected: Vec<Verdict> = pts.iter().rev().map(|&p| serial.verdict(p)).collect();
        let parallel = ZoneCells::new(&idx, 20_000.0);
        let got: Vec<Verdict> = pts.par_iter().map(|&p| parallel.verdict(p)).collect();
        assert!(got.iter().eq(expected.iter().rev()));
    }

    #[test]
    fn levels_nest() {
        // The cell at each level is the finest cell shifted, on cell edges,
        // at the antimeridian and the poles too.
        let mut pts = vec![
            Coord { x: 180.0, y: 90.0 },
            Coord {
                x: -180.0,
                y: -90.0,
            },
            Coord {
                x: 179.99999,
                y: 0.0,
            },
            Coord { x: 0.0, y: 0.0 },
            Coord { x: 76.0, y: 48.0 },
            Coord {
                x: 76.0 - 4.0 / 8192.0,
                y: 48.0 + 3.0 * 4.0 / 8192.0,
            },
        ];
        pts.extend(points_near(&wiggly_line(), 500));
        for p in pts {
            let (fx, fy) = cell_of(p, MAX_LEVEL);
            for level in 0..=MAX_LEVEL {
                let size = cell_size_deg(level);
                let ix = ((p.x + 180.0) / size).floor().min(360.0 / size - 1.0);
                let iy = ((p.y + 90.0) / size).floor().min(180.0 / size - 1.0);
                let shift = MAX_LEVEL - level;
                assert_eq!(
                    ((fx >> shift) as f64, (fy >> shift) as f64),
                    (ix, iy),
                    "{p:?} level {level}"
                );
            }
        }
    }

    #[test]
    fn nodes_are_small() {
        // The memory bound in the module doc counts 16-byte nodes in
        // 64-byte blocks (one cache line), and the state's "not yet" 0 is
        // no state.
        assert_eq!(std::mem::size_of::<Node>(), 16);
        assert_eq!(std::mem::size_of::<Block>(), 64);
        assert_eq!(std::mem::align_of::<Block>(), 64);
        assert_eq!(MAX_CHILD_BLOCKS * std::mem::size_of::<Block>(), 32 << 20);
        assert_ne!(OUTSIDE.to_bits(), 0);
        assert_ne!(STRADDLES.to_bits(), 0);
        // Upper bounds are rounded up with next_up: never +0.0.
        assert_ne!(0.0f32.next_up().to_bits(), 0);
    }
}
