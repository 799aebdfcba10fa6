//! The context memory of CAD OSE and the per-row step, written to reproduce the reference's
//! outputs bit for bit.
//!
//! The reference (NAB's `nab/detectors/context_ose/`, Python 2.7, 64-bit) breaks ties between active
//! contexts by the Python 2 hashes of their fact tuples, and the order in which it creates new
//! contexts follows the slot order of Python 2 dictionaries keyed by small integers. Both decide
//! which contexts become "neurons", so both are reproduced here: [`py2_tuple_hash`] is CPython
//! 2.7's `tuplehash` over 64-bit ints, and [`Py2IntDict`] is CPython 2.7's open-addressing table
//! (size 8, growth to 4 × used past two-thirds full, the `5i + perturb + 1` probe) for
//! non-negative integer keys, iterated in slot order.

use std::collections::{HashMap, HashSet};

/// Bit `k` of the binned value is sensor fact `2k + bit`.
/// Neuron facts are `NEURON_BASE + context id`.
pub(crate) const NEURON_BASE: u64 = 1 << 31;
/// Fact marking a value below the range's lower edge by a whole bin or more (honest range only;
/// the reference's range is the whole file's, so it never sees one).
pub(crate) const BELOW_RANGE: u64 = 2 * 64;

/// CPython 2.7's hash of a tuple of (64-bit, non-negative) ints.
pub(crate) fn py2_tuple_hash(items: &[u64]) -> i64 {
    let mut x: i64 = 0x345678;
    let mut mult: i64 = 1_000_003;
    let mut len = items.len() as i64;
    for &item in items {
        len -= 1;
        let y = py2_int_hash(item);
        x = (x ^ y).wrapping_mul(mult);
        mult = mult.wrapping_add(82_520 + len + len);
    }
    x = x.wrapping_add(97_531);
    if x == -1 { -2 } else { x }
}

fn py2_int_hash(value: u64) -> i64 {
    let v = value as i64;
    if v == -1 { -2 } else { v }
}

/// A CPython 2.7 dict from non-negative int keys to values, kept only for its iteration order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Py2IntDict {
    slots: Vec<Option<(u64, usize)>>,
    used: usize,
}

impl Py2IntDict {
    const MIN_SIZE: usize = 8;

    fn probe_slot(slots: &[Option<(u64, usize)>], key: u64) -> usize {
        let mask = (slots.len() - 1) as u64;
        let mut i = key & mask;
        let mut perturb = key;
        loop {
            match slots[(i & mask) as usize] {
                None => return (i & mask) as usize,
                Some((k, _)) if k == key => return (i & mask) as usize,
                Some(_) => {}
            }
            i = (i << 2)
                .wrapping_add(i)
                .wrapping_add(perturb)
                .wrapping_add(1);
            perturb >>= 5;
        }
    }

    /// `dict.setdefault(key, value)`: the stored value, inserting `value` when `key` is new.
    pub(crate) fn setdefault(&mut self, key: u64, value: usize) -> usize {
        if self.slots.is_empty() {
            self.slots = vec![None; Self::MIN_SIZE];
        }
        let slot = Self::probe_slot(&self.slots, key);
        if let Some((_, stored)) = self.slots[slot] {
            return stored;
        }
        self.slots[slot] = Some((key, value));
        self.used += 1;
        // No deletions ever happen, so `fill == used`.
        if self.used * 3 >= self.slots.len() * 2 {
            self.resize(4 * self.used);
        }
        value
    }

    fn resize(&mut self, min_used: usize) {
        let mut size = Self::MIN_SIZE;
        while size <= min_used {
            size <<= 1;
        }
        let mut slots = vec![None; size];
        for (key, value) in self.slots.iter().flatten() {
            let slot = Self::probe_slot(&slots, *key);
            slots[slot] = Some((*key, *value));
        }
        self.slots = slots;
    }

    /// `(key, value)` pairs in slot order, as `dict.iteritems()` yields them.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, usize)> + '_ {
        self.slots.iter().flatten().copied()
    }
}

/// A semi-context: one side (left: sensor and neuron facts before; right: sensor facts after)
/// of one or more contexts, with the facts of the latest input that it contains.
#[derive(Debug, Clone)]
struct SemiContext {
    len: usize,
    matched: Vec<u64>,
    /// Left semi-contexts only: right semi-context id → context id.
    contexts: Py2IntDict,
}

/// A context: a left and a right semi-context, and how often both were fully active.
#[derive(Debug, Clone)]
struct Context {
    /// Steps where both sides were fully active.
    activations: u64,
    zero_level: bool,
    left_hash: i64,
    right_hash: i64,
}

/// One side's semi-contexts and their fact index.
#[derive(Debug, Clone, Default)]
struct Side {
    ids: HashMap<i64, usize>,
    semis: Vec<SemiContext>,
    by_fact: HashMap<u64, Vec<usize>>,
    crossed: Vec<usize>,
}

impl Side {
    /// The id of the semi-context with these facts (by their Python hash, as the reference
    /// keys them), creating it when new.
    fn get_or_create(&mut self, facts: &[u64], hash: i64) -> usize {
        let next = self.semis.len();
        let id = *self.ids.entry(hash).or_insert(next);
        if id == next {
            self.semis.push(SemiContext {
                len: facts.len(),
                matched: Vec::new(),
                contexts: Py2IntDict::default(),
            });
            for &fact in facts {
                self.by_fact.entry(fact).or_default().push(id);
            }
        }
        id
    }

    /// Records which facts of `facts` each semi-context contains; the touched ones, in id
    /// order, become `crossed`.
    fn cross(&mut self, facts: &[u64]) {
        for &id in &self.crossed {
            self.semis[id].matched.clear();
        }
        let mut touched = Vec::new();
        for &fact in facts {
            if let Some(ids) = self.by_fact.get(&fact) {
                for &id in ids {
                    if self.semis[id].matched.is_empty() {
                        touched.push(id);
                    }
                    self.semis[id].matched.push(fact);
                }
            }
        }
        touched.sort_unstable();
        self.crossed = touched;
    }
}

type FactPair = (Vec<u64>, Vec<u64>);

/// A fully active context: `(id, activations, left hash, right hash)`.
type Active = (usize, u64, i64, i64);

/// The whole detector state of one channel.
#[derive(Debug, Clone)]
pub(crate) struct Engine {
    max_left_len: usize,
    max_active: usize,
    left: Side,
    right: Side,
    contexts: Vec<Context>,
    /// The zero-level context created at this step; the reference's `False` compares equal to
    /// context 0, so `None` skips context 0 (see [`Engine::update_and_activate`]).
    new_context: Option<usize>,
    left_facts: Vec<u64>,
}

impl Engine {
    pub(crate) fn new(max_left_len: usize, max_active: usize) -> Self {
        Self {
            max_left_len,
            max_active,
            left: Side::default(),
            right: Side::default(),
            contexts: Vec::new(),
            new_context: None,
            left_facts: Vec::new(),
        }
    }

    /// Stores the given contexts; returns how many were new. A zero-level context returns at
    /// once (1 when new), marking an existing one as zero-level.
    fn store_contexts(&mut self, pairs: &[FactPair], zero_level: bool) -> usize {
        let mut added = 0;
        for (left_facts, right_facts) in pairs {
            let left_hash = py2_tuple_hash(left_facts);
            let right_hash = py2_tuple_hash(right_facts);
            let left_id = self.left.get_or_create(left_facts, left_hash);
            let right_id = self.right.get_or_create(right_facts, right_hash);
            let next = self.contexts.len();
            let id = self.left.semis[left_id]
                .contexts
                .setdefault(right_id as u64, next);
            if id == next {
                added += 1;
                self.contexts.push(Context {
                    activations: 0,
                    zero_level,
                    left_hash,
                    right_hash,
                });
                if zero_level {
                    self.new_context = Some(id);
                    return 1;
                }
            } else if zero_level {
                self.contexts[id].zero_level = true;
                return 0;
            }
        }
        added
    }

    /// After the right side has been crossed with the new input: among the contexts whose left
    /// side was fully active at the previous step (the selected ones), returns the fully active
    /// contexts `(id, activations, left hash, right hash)`, how many were selected, and the
    /// potential new contexts.
    fn update_and_activate(&mut self, new_flag: bool) -> (Vec<Active>, usize, Vec<FactPair>) {
        let mut active = Vec::new();
        let mut selected = 0;
        let mut potential = Vec::new();
        let skip = self.new_context.unwrap_or(0);
        for &left_id in &self.left.crossed {
            let left = &self.left.semis[left_id];
            let left_full = left.len == left.matched.len();
            for (right_id, id) in left.contexts.iter() {
                if id == skip {
                    continue;
                }
                let right = &self.right.semis[right_id as usize];
                let context = &mut self.contexts[id];
                let right_matched = right.matched.len();
                if left_full {
                    selected += 1;
                    if right_matched > 0 {
                        if right.len == right_matched {
                            context.activations += 1;
                            active.push((
                                id,
                                context.activations,
                                context.left_hash,
                                context.right_hash,
                            ));
                        } else if context.zero_level
                            && new_flag
                            && left.matched.len() <= self.max_left_len
                        {
                            potential.push((left.matched.clone(), right.matched.clone()));
                        }
                    }
                } else if context.zero_level
                    && new_flag
                    && right_matched > 0
                    && left.matched.len() <= self.max_left_len
                {
                    potential.push((left.matched.clone(), right.matched.clone()));
                }
            }
        }
        self.new_context = None;
        (active, selected, potential)
    }

    /// Stores the potential contexts and crosses the left side with the new left facts;
    /// returns how many contexts were new.
    fn store_and_cross_left(&mut self, potential: &[FactPair]) -> usize {
        let added = if potential.is_empty() {
            0
        } else {
            self.store_contexts(potential, false)
        };
        self.left.cross(&self.left_facts);
        added
    }

    /// One input (its sensor facts, sorted and distinct): returns the raw anomaly score,
    /// `(1 − share of selected contexts that were fully active + share of potential new
    /// contexts that were new) / 2`.
    pub(crate) fn step(&mut self, sensor: &[u64]) -> f64 {
        let mut unique: HashSet<FactPair> = HashSet::new();
        let new_flag = if !self.left_facts.is_empty() && !sensor.is_empty() {
            let pair = (self.left_facts.clone(), sensor.to_vec());
            unique.insert(pair.clone());
            self.store_contexts(&[pair], true) > 0
        } else {
            false
        };

        self.right.cross(sensor);
        let (mut active, selected, potential) = self.update_and_activate(new_flag);
        unique.extend(potential.iter().cloned());
        let active_share = if selected > 0 {
            active.len() as f64 / selected as f64
        } else {
            0.0
        };

        active.sort_unstable_by_key(|&(_, activations, left, right)| (activations, left, right));
        let first = active.len().saturating_sub(self.max_active);
        let mut left_facts: Vec<u64> = sensor.to_vec();
        left_facts.extend(
            active[first..]
                .iter()
                .map(|&(id, ..)| NEURON_BASE + id as u64),
        );
        left_facts.sort_unstable();
        left_facts.dedup();
        self.left_facts = left_facts;

        let mut added = self.store_and_cross_left(&potential);
        if new_flag {
            added += 1;
        }
        let new_share = if new_flag && !unique.is_empty() {
            added as f64 / unique.len() as f64
        } else {
            0.0
        };
        (1.0 - active_share + new_share) / 2.0
    }
}

/// The sensor facts of a value: bit k of `bin` is fact `2k + bit`, over at least
/// `bits` bits (more when the bin is above the range); a negative bin (a value a whole bin or
/// more below the range) gives the facts of its magnitude plus [`BELOW_RANGE`].
pub(crate) fn sensor_facts(bin: i64, bits: u32) -> Vec<u64> {
    let magnitude = bin.unsigned_abs();
    let width = (64 - magnitude.leading_zeros()).max(bits);
    let mut facts: Vec<u64> = (0..width)
        .map(|k| 2 * k as u64 + ((magnitude >> k) & 1))
        .collect();
    if bin < 0 {
        facts.push(BELOW_RANGE);
    }
    facts.sort_unstable();
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuple_hashes_are_cpython_2_7s() {
        // Printed by CPython 2.7.18 (64-bit, pyenv): hash(()), hash((1,)),
        // hash((65536, 65538)), hash((2147483648,)).
        assert_eq!(py2_tuple_hash(&[]), 3_527_539);
        assert_eq!(py2_tuple_hash(&[1]), 3_430_019_387_558);
        assert_eq!(py2_tuple_hash(&[65_536, 65_538]), 3_784_025_191_587_926_781);
        assert_eq!(py2_tuple_hash(&[2_147_483_648]), 2_150_920_108_838_499);
    }

    fn keys_after(inserted: &[u64]) -> Vec<u64> {
        let mut d = Py2IntDict::default();
        for &k in inserted {
            assert_eq!(d.setdefault(k, k as usize), k as usize);
            assert_eq!(
                d.setdefault(k, usize::MAX),
                k as usize,
                "an existing key keeps its value"
            );
        }
        d.iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn small_int_dicts_iterate_in_cpython_slot_order() {
        // CPython 2.7.18: d = {}; for k in KEYS: d.setdefault(k, 0); print d.keys()
        assert_eq!(keys_after(&[9, 1, 17, 3]), vec![9, 3, 17, 1]);
        assert_eq!(keys_after(&[5, 4, 3, 2, 1, 0]), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(
            keys_after(&[100, 37, 8, 16, 24, 1000, 2003, 5, 77]),
            vec![100, 37, 8, 77, 16, 1000, 2003, 24, 5]
        );
    }

    #[test]
    fn sensor_facts_encode_bits() {
        assert_eq!(sensor_facts(0, 3), vec![0, 2, 4]);
        assert_eq!(sensor_facts(5, 3), vec![1, 2, 5]);
        assert_eq!(sensor_facts(9, 3), vec![1, 2, 4, 7]);
        assert_eq!(sensor_facts(-1, 3), vec![1, 2, 4, BELOW_RANGE]);
    }
}
