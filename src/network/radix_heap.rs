//! A monotone priority queue of `(cost, node)` for Dijkstra: a radix heap
//! over the bits of non-negative `f64` costs.
//!
//! Non-negative IEEE doubles order like their bit patterns read as `u64`,
//! and a Dijkstra search never pushes a cost below the one it last popped
//! (arc weights are ≥ 0), which is all a radix heap needs. An entry lives in
//! the bucket of the highest bit in which its key differs from the last
//! popped key; a pop empties the lowest non-empty bucket into lower ones
//! around its minimum. Each entry moves at most 64 times and in practice
//! once or twice, and a push is a bucket index and a `Vec::push`: cheaper
//! than the sift of a binary heap on the large frontiers of national
//! networks.
//!
//! Entries of equal cost come out in increasing node order (bucket 0 holds
//! the entries at the last popped cost and is itself a small heap on the
//! node), so the order of pops is exactly that of a binary heap on
//! `(cost, node)`: results do not depend on which queue is used.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct RadixHeap {
    /// Key of the last pop (0 before the first).
    last: u64,
    /// The nodes at cost `last`.
    ties: BinaryHeap<Reverse<u32>>,
    /// Bucket `b` (1..=64) holds keys whose highest bit differing from
    /// `last` is bit `b − 1`.
    buckets: [Vec<(u64, u32)>; 65],
    len: usize,
}

impl Default for RadixHeap {
    fn default() -> Self {
        RadixHeap {
            last: 0,
            ties: BinaryHeap::new(),
            buckets: std::array::from_fn(|_| Vec::new()),
            len: 0,
        }
    }
}

/// The order-preserving key of a non-negative cost (−0 is read as +0).
///
/// # Panics
/// If `cost` is negative or NaN: its bits would not order like it (checked
/// always: one comparison against a wrong answer).
#[inline]
fn key(cost: f64) -> u64 {
    assert!(cost >= 0.0, "radix heap cost must be >= 0, got {cost}");
    (cost + 0.0).to_bits()
}

impl RadixHeap {
    /// Empty the queue (keeping its buffers).
    pub(crate) fn clear(&mut self) {
        self.last = 0;
        self.ties.clear();
        self.buckets.iter_mut().for_each(Vec::clear);
        self.len = 0;
    }

    #[inline]
    fn bucket(&self, k: u64) -> usize {
        64 - (k ^ self.last).leading_zeros() as usize
    }

    /// Queue `node` at `cost`.
    ///
    /// # Panics
    /// If `cost` is negative, NaN or below the cost last popped.
    #[inline]
    pub(crate) fn push(&mut self, cost: f64, node: u32) {
        let k = key(cost);
        assert!(k >= self.last, "radix heap push below the last pop");
        self.len += 1;
        match self.bucket(k) {
            0 => self.ties.push(Reverse(node)),
            b => self.buckets[b].push((k, node)),
        }
    }

    /// The entry of least `(cost, node)`, removed.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(f64, u32)> {
        if self.ties.is_empty() {
            if self.len == 0 {
                return None;
            }
            let b = (1..65)
                .find(|&b| !self.buckets[b].is_empty())
                .expect("len counts the entries");
            let mut moved = std::mem::take(&mut self.buckets[b]);
            self.last = moved.iter().map(|&(k, _)| k).min().expect("non-empty");
            for &(k, node) in &moved {
                match self.bucket(k) {
                    0 => self.ties.push(Reverse(node)),
                    to => self.buckets[to].push((k, node)),
                }
            }
            moved.clear();
            self.buckets[b] = moved;
        }
        let Reverse(node) = self.ties.pop().expect("refilled above");
        self.len -= 1;
        Some((f64::from_bits(self.last), node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BinaryHeap;

    /// The binary heap on (cost, node) it replaces: a min-heap.
    #[derive(PartialEq)]
    struct Item(f64, u32);
    impl Eq for Item {}
    impl Ord for Item {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
        }
    }
    impl PartialOrd for Item {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }

    #[test]
    fn pops_in_the_order_of_a_binary_heap_on_cost_then_node() {
        let mut s = 5u64;
        let mut ties = 0;
        for round in 0..200 {
            let (mut radix, mut binary) = (RadixHeap::default(), BinaryHeap::new());
            let mut popped = Vec::new();
            // Seeds, then a Dijkstra-like pattern: each pop pushes 0-3
            // entries at its cost plus a weight that is often 0 or repeated
            // (ties), sometimes tiny (keys differing in low bits only), and
            // sometimes large.
            for _ in 0..1 + round % 7 {
                let c = crate::test_rand::rand01(&mut s) * 100.0;
                let n = (crate::test_rand::next_u64(&mut s) % 50) as u32;
                radix.push(c, n);
                binary.push(Item(c, n));
            }
            while let Some(Item(c, n)) = binary.pop() {
                assert_eq!(radix.pop(), Some((c, n)), "round {round} after {popped:?}");
                popped.push((c, n));
                if popped.len() > 2_000 {
                    continue;
                }
                for _ in 0..crate::test_rand::next_u64(&mut s) % 4 {
                    let w = match crate::test_rand::next_u64(&mut s) % 5 {
                        0 => 0.0,
                        1 => 1.0,
                        2 => f64::from_bits(c.to_bits() + 1) - c,
                        3 => crate::test_rand::rand01(&mut s) * 1e6,
                        _ => crate::test_rand::rand01(&mut s),
                    };
                    let n = (crate::test_rand::next_u64(&mut s) % 50) as u32;
                    radix.push(c + w, n);
                    binary.push(Item(c + w, n));
                }
            }
            assert_eq!(radix.pop(), None);
            ties += popped.windows(2).filter(|p| p[0].0 == p[1].0).count();
        }
        assert!(ties > 1000, "ties exercised: {ties}");
        // −0 is +0, and reuse after clear.
        let mut radix = RadixHeap::default();
        radix.push(5.0, 1);
        radix.clear();
        radix.push(-0.0, 3);
        radix.push(0.0, 2);
        assert_eq!(radix.pop(), Some((0.0, 2)));
        assert_eq!(radix.pop(), Some((0.0, 3)));
        assert_eq!(radix.pop(), None);
    }

    #[test]
    #[should_panic(expected = "must be >= 0")]
    fn a_negative_cost_is_refused() {
        RadixHeap::default().push(-1.0, 0);
    }

    #[test]
    #[should_panic(expected = "below the last pop")]
    fn a_push_below_the_last_pop_is_refused() {
        let mut h = RadixHeap::default();
        h.push(2.0, 0);
        h.pop();
        h.push(1.0, 0);
    }
}
