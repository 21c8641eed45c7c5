//! The queue's side of the index: its order (pages), the panels' counts and the timeline.

use std::collections::BinaryHeap;

use crate::geo::BBox;
use crate::model::{Category, Status};
use crate::store::{Counts, RequestOrder};

use super::{MapIndex, MapPoint, PointFilter};

/// Pages ending within this many rows of the top keep a heap of the first ones; further
/// down, sorting a partition of every key is cheaper than a heap that large.
const HEAP_PAGE_MAX: usize = 10_000;

impl MapIndex {
    /// [`MapIndex::for_each_in`] with a box, [`MapIndex::for_each`] without.
    fn for_each_maybe_in(
        &self,
        bbox: Option<&BBox>,
        filter: &PointFilter,
        f: impl FnMut(&MapPoint),
    ) {
        match bbox {
            Some(b) => self.for_each_in(b, filter, f),
            None => self.for_each(filter, f),
        }
    }

    /// One page of the queue: the total matching and the rowids at `offset..offset+limit`
    /// in `order` (the same order `Store::query_requests` gives from SQL).
    pub fn page(
        &self,
        bbox: Option<&BBox>,
        filter: &PointFilter,
        order: RequestOrder,
        limit: usize,
        offset: usize,
    ) -> (usize, Vec<i64>) {
        let end = offset.saturating_add(limit);
        if end > HEAP_PAGE_MAX {
            return self.deep_page(bbox, filter, order, offset, end);
        }
        let mut total = 0;
        // The first `end` keys in order, kept in a max-heap of at most `end`: a page near the
        // top of a queue of 10^6 does not collect (and allocate) a key for every request.
        let mut first: BinaryHeap<OrderKey> = BinaryHeap::with_capacity(end + 1);
        let mut keep = |p: &MapPoint| {
            total += 1;
            let key = order_key(p, order);
            if first.len() < end {
                first.push(key);
            } else if first.peek().is_some_and(|worst| key < *worst) {
                first.pop();
                first.push(key);
            }
        };
        self.for_each_maybe_in(bbox, filter, &mut keep);
        let page = first
            .into_sorted_vec()
            .iter()
            .skip(offset)
            .map(|k| k.2.abs())
            .collect();
        (total, page)
    }

    /// [`MapIndex::page`] far down a long queue: every key, partitioned at `end`.
    pub(super) fn deep_page(
        &self,
        bbox: Option<&BBox>,
        filter: &PointFilter,
        order: RequestOrder,
        offset: usize,
        end: usize,
    ) -> (usize, Vec<i64>) {
        let mut keys: Vec<OrderKey> = Vec::new();
        self.for_each_maybe_in(bbox, filter, |p| keys.push(order_key(p, order)));
        let total = keys.len();
        let end = end.min(total);
        if offset >= end {
            return (total, Vec::new());
        }
        if end < total {
            keys.select_nth_unstable(end);
            keys.truncate(end);
        }
        keys.sort_unstable();
        (total, keys[offset..end].iter().map(|k| k.2.abs()).collect())
    }

    /// Counts of the requests the filter keeps (total, by status, category and country,
    /// each largest first), as `Store::counts` gives them from SQL, plus the open
    /// emergencies in the whole index.
    pub fn counts(&self, bbox: Option<&BBox>, filter: &PointFilter) -> Counts {
        let mut by_status = vec![0u64; Status::ALL.len()];
        let mut by_category = vec![0u64; Category::ALL.len()];
        // Country ids are small and dense (interned): counted in an array, not a map.
        let mut by_country = vec![0u64; self.countries.id_count()];
        let mut total = 0;
        self.for_each_maybe_in(bbox, filter, |p| {
            total += 1;
            by_status[p.status() as usize] += 1;
            by_category[p.category as usize] += 1;
            by_country[usize::from(p.country)] += 1;
        });
        let names = self.countries.names();
        let ranked = |pairs: Vec<(String, u64)>| {
            let mut pairs: Vec<(String, u64)> = pairs.into_iter().filter(|(_, n)| *n > 0).collect();
            pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            pairs
        };
        Counts {
            total,
            by_status: ranked(
                Status::ALL
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .zip(by_status)
                    .collect(),
            ),
            by_category: ranked(
                Category::ALL
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .zip(by_category)
                    .collect(),
            ),
            by_country: ranked(
                by_country
                    .into_iter()
                    .enumerate()
                    .filter(|(_, n)| *n > 0)
                    .map(|(id, n)| {
                        (
                            names
                                .get(&(id as u16))
                                .map_or_else(String::new, |s| (*s).to_owned()),
                            n,
                        )
                    })
                    .collect(),
            ),
            open_emergencies: self.open_emergencies(),
        }
    }

    /// Open emergencies in the whole index, whatever the filters: the banner's number.
    pub fn open_emergencies(&self) -> u64 {
        self.open_emergencies
    }

    /// Requests the filter keeps per bucket of `width_ms` by creation time, oldest first:
    /// `(bucket start ms, count, emergencies)`, as `Store::time_buckets` gives them.
    pub fn time_buckets(
        &self,
        bbox: Option<&BBox>,
        filter: &PointFilter,
        width_ms: i64,
    ) -> Vec<(i64, u64, u64)> {
        let width = width_ms.max(1);
        let mut buckets: std::collections::BTreeMap<i64, (u64, u64)> = Default::default();
        self.for_each_maybe_in(bbox, filter, |p| {
            let b = buckets.entry(p.created_ms / width * width).or_default();
            b.0 += 1;
            b.1 += u64::from(p.emergency());
        });
        buckets
            .into_iter()
            .map(|(start, (n, e))| (start, n, e))
            .collect()
    }
}

/// A point's place in an order, smallest first: (group, time, tie-break). The tie-break is
/// the rowid, negated where the group runs newest first, so it also gives the rowid back.
pub(super) type OrderKey = (u8, i64, i64);

/// Where `p` goes in `order`. `Triage`: open emergencies, then open requests by priority,
/// then finished ones, each newest first. `Waiting`: emergencies nobody has acknowledged,
/// the longest waiting first, then the rest as in `Triage`. (`Relevance` needs the text
/// ranks, which only SQL has: the index answers it in triage order, as SQL does without
/// a text query.)
pub(super) fn order_key(p: &MapPoint, order: RequestOrder) -> OrderKey {
    let newest = (-p.created_ms, -p.rowid());
    let oldest = (p.created_ms, p.rowid());
    match order {
        RequestOrder::Triage | RequestOrder::Relevance => (p.triage_rank(), newest.0, newest.1),
        RequestOrder::Waiting if p.is_waiting() => (0, oldest.0, oldest.1),
        RequestOrder::Waiting => (p.triage_rank() + 1, newest.0, newest.1),
        RequestOrder::Newest => (0, newest.0, newest.1),
        RequestOrder::Oldest => (0, oldest.0, oldest.1),
    }
}
