//! Ordering and scheduling of interventions: pure functions, no I/O.
//!
//! This module is shared with the browser (WebAssembly), so it uses only `std` and `serde` and
//! never panics: the planner runs on whatever a consultant has typed so far, including half-filled
//! efforts (zero, negative, NaN), dependencies on interventions that were since deleted, and ids
//! listed twice. Every function below accepts such input and gives a defined answer.
//!
//! Conventions shared by all functions:
//! - An item's dependencies on ids that are not among the items are ignored: the intervention
//!   they named is gone, and a missing enabler must not block the whole plan.
//! - When two items share an id, the first one counts and later ones are ignored, so the answer
//!   never depends on which duplicate a hash map happened to keep.
//! - Efforts below [`MIN_EFFORT_WEEKS`] (including zero, negative and non-finite ones) count as
//!   that minimum, so a priority never divides by zero and every roadmap slot has a length.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// The smallest effort the planner works with, in engineer-weeks (half a day). Anything smaller,
/// zero, negative or not a number counts as this, so a priority stays finite and a slot visible.
pub const MIN_EFFORT_WEEKS: f64 = 0.1;

/// Roadmap weeks are kept in thousandths of a week (integers), so adding many slot lengths
/// never drifts (0.1 + 0.2 would not be 0.3 in floating point).
const MILLIWEEKS_PER_WEEK: f64 = 1000.0;

/// The most engineers a roadmap lays out; more lanes than this is not a team but an organisation.
const MAX_CAPACITY: u32 = 100;

/// One intervention as the planner sees it.
///
/// It carries only what ordering and scheduling need, so the planner can run in the browser on
/// the figures being edited, before anything is saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    /// The intervention's id; dependencies and pins refer to it.
    pub id: i64,
    /// How much the intervention improves the system, 1 (little) to 5 (a lot).
    pub impact: u32,
    /// How sure we are of the impact, as RICE's factor: 0.5 low, 0.8 medium, 1.0 high.
    pub confidence: f64,
    /// Engineer-weeks of work, more than 0.
    pub effort_weeks: f64,
    /// Ids of interventions that must come first (enablers of this one).
    pub depends_on: Vec<i64>,
}

/// Priority = impact × confidence ÷ effort: impact per week of effort (seed 002), so a cheap
/// change that helps a lot comes before an expensive one that helps as much.
///
/// Effort at or below 0, below [`MIN_EFFORT_WEEKS`] or not finite (NaN, ±∞) counts as [`MIN_EFFORT_WEEKS`],
/// so it never divides by zero. Confidence is a factor of at most 1: it is clamped to 0..=1 and a
/// confidence that is not a number counts as 0 (nothing known, nothing claimed). The result is
/// always finite and at least 0.
pub fn priority(impact: u32, confidence: f64, effort_weeks: f64) -> f64 {
    let confidence = if confidence.is_nan() {
        0.0
    } else {
        confidence.clamp(0.0, 1.0)
    };
    let value = f64::from(impact) * confidence / effective_effort(effort_weeks);
    // `+ 0.0` turns a negative zero into zero, so equal priorities compare equal bit for bit.
    if value.is_finite() {
        value + 0.0
    } else {
        0.0
    }
}

/// Effort as the planner uses it: at least [`MIN_EFFORT_WEEKS`], never NaN or infinite.
fn effective_effort(effort_weeks: f64) -> f64 {
    if effort_weeks.is_finite() && effort_weeks > MIN_EFFORT_WEEKS {
        effort_weeks
    } else {
        MIN_EFFORT_WEEKS
    }
}

/// A circle of dependencies: ids in dependency order, e.g. `[a, b, c]` means a depends on b,
/// b on c, c on a. A self-dependency is a cycle of one: `[a]`.
///
/// Named in full so the consultant sees which links to cut, not just that the plan is stuck.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyCycle {
    /// The ids around the circle, each depending on the next and the last on the first.
    pub ids: Vec<i64>,
}

/// Finds a dependency cycle if any (self-dependency counts), because no order can satisfy one.
/// Dependencies on ids not in `items` are ignored; of duplicate ids the first item counts.
/// The search walks items and their dependencies in input order, so the same input always names
/// the same cycle.
pub fn find_cycle(items: &[PlanItem]) -> Option<DependencyCycle> {
    Graph::new(items).dependencies_first().err()
}

/// The computed order: every dependency comes before what depends on it; otherwise highest
/// priority first.
///
/// A dependency inherits the highest priority of anything that (transitively) depends on it, so
/// an enabler is pulled forward right before the valuable work it unblocks rather than waiting at
/// the end. Ties (equal effective priority, then equal own priority) keep input order: stable, so
/// the order does not reshuffle when nothing relevant changed.
/// Returns `Err(cycle)` when there is one. Unknown dependency ids are ignored. Duplicate ids: the
/// first item counts and the id appears once.
pub fn computed_order(items: &[PlanItem]) -> Result<Vec<i64>, DependencyCycle> {
    let graph = Graph::new(items);
    Ok(graph
        .computed(&graph.dependencies_first()?)
        .into_iter()
        .map(|index| graph.ids[index])
        .collect())
}

/// Why a hand-pinned order cannot stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PinProblem {
    /// `id` is pinned before `dependency`, which it depends on.
    DependencyAfter {
        /// The dependent intervention, pinned too early.
        id: i64,
        /// The dependency, pinned after it.
        dependency: i64,
    },
    /// The pin names an id that is not an intervention.
    Unknown {
        /// The id that matches no intervention.
        id: i64,
    },
    /// The pin names an intervention twice.
    Duplicate {
        /// The id named again.
        id: i64,
    },
}

/// Checks a consultant's pinned order (it may list a subset of the items). Ok when every id is an
/// intervention, none is named twice, and every dependency listed in the pin comes before its
/// dependent; a dependency left out of the pin is fine, [`effective_order`] places it.
///
/// Reports the first problem walking the pin from the front, so fixing problems one by one goes
/// from the top. Dependency cycles are not a pin problem: [`find_cycle`] reports those, and a
/// self-dependency is not "pinned after itself".
pub fn check_pinned_order(items: &[PlanItem], pinned: &[i64]) -> Result<(), PinProblem> {
    let graph = Graph::new(items);
    let mut pin_position: HashMap<i64, usize> = HashMap::with_capacity(pinned.len());
    for (position, &id) in pinned.iter().enumerate() {
        pin_position.entry(id).or_insert(position);
    }
    for (position, &id) in pinned.iter().enumerate() {
        let Some(&index) = graph.index.get(&id) else {
            return Err(PinProblem::Unknown { id });
        };
        if pin_position.get(&id) != Some(&position) {
            return Err(PinProblem::Duplicate { id });
        }
        for &dependency in &graph.deps[index] {
            let dependency = graph.ids[dependency];
            if pin_position
                .get(&dependency)
                .is_some_and(|&at| at > position)
            {
                return Err(PinProblem::DependencyAfter { id, dependency });
            }
        }
    }
    Ok(())
}

/// The order shown: the pinned ids first in pinned order (ignoring pinned ids that no longer exist
/// and repeats), then the items not in the pin in computed order — but never a dependency after
/// its dependent: if an unpinned item is a (transitive) dependency of a pinned one it is placed
/// right before the first pinned item needing it, so a consultant's pin never yields an
/// impossible plan.
///
/// Dependencies pulled forward together keep computed order among themselves. Should a pin have
/// gone stale so that it lists a dependency after its dependent (see [`check_pinned_order`]), the
/// pinned dependency is pulled forward the same way rather than shown too late.
/// Err on a cycle.
pub fn effective_order(items: &[PlanItem], pinned: &[i64]) -> Result<Vec<i64>, DependencyCycle> {
    let graph = Graph::new(items);
    let computed = graph.computed(&graph.dependencies_first()?);
    let mut computed_position = vec![0; graph.len()];
    for (position, &index) in computed.iter().enumerate() {
        computed_position[index] = position;
    }

    let mut placed = vec![false; graph.len()];
    let mut order = Vec::with_capacity(graph.len());
    let mut pulled = Vec::new();
    let mut stack = Vec::new();
    for id in pinned {
        let Some(&index) = graph.index.get(id) else {
            continue;
        };
        if placed[index] {
            continue;
        }
        // Everything `index` needs that is not shown yet, found depth-first.
        pulled.clear();
        stack.clear();
        stack.push(index);
        while let Some(node) = stack.pop() {
            for &dependency in &graph.deps[node] {
                if !placed[dependency] {
                    placed[dependency] = true;
                    pulled.push(dependency);
                    stack.push(dependency);
                }
            }
        }
        // Computed order is dependencies-first, so it is a valid order for the pulled set too.
        pulled.sort_by_key(|&node| computed_position[node]);
        order.extend(pulled.iter().map(|&node| graph.ids[node]));
        placed[index] = true;
        order.push(graph.ids[index]);
    }
    for index in computed {
        if !placed[index] {
            placed[index] = true;
            order.push(graph.ids[index]);
        }
    }
    Ok(order)
}

/// Where a shown order departs from the computed one, so the report can say which interventions a
/// consultant moved and by how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDeparture {
    /// The intervention that moved.
    pub id: i64,
    /// Its place in the computed order, 1-based.
    pub computed_position: usize,
    /// Its place in the shown order, 1-based.
    pub shown_position: usize,
}

/// Where `shown` departs from `computed` (1-based positions), only for ids whose positions differ,
/// in shown order. Ids missing from either list have nothing to compare and are left out; an id
/// listed twice counts at its first place.
pub fn departures(computed: &[i64], shown: &[i64]) -> Vec<OrderDeparture> {
    let mut computed_position: HashMap<i64, usize> = HashMap::with_capacity(computed.len());
    for (position, &id) in computed.iter().enumerate() {
        computed_position.entry(id).or_insert(position + 1);
    }
    let mut seen: HashSet<i64> = HashSet::with_capacity(shown.len());
    let mut out = Vec::new();
    for (position, &id) in shown.iter().enumerate() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(&computed_position) = computed_position.get(&id) {
            if computed_position != position + 1 {
                out.push(OrderDeparture {
                    id,
                    computed_position,
                    shown_position: position + 1,
                });
            }
        }
    }
    out
}

/// One intervention placed on the roadmap. Weeks count from the start date (0.0 = start) and are
/// multiples of 1/1000 week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadmapSlot {
    /// The intervention.
    pub id: i64,
    /// The engineer (lane) doing it, 1-based.
    pub engineer: u32,
    /// When work starts, in weeks from the start date.
    pub start_week: f64,
    /// When work ends: start plus the effort (rounded to 1/1000 week).
    pub end_week: f64,
}

/// The interventions laid out in weeks for a team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roadmap {
    /// Engineers the roadmap was laid out for (after clamping to 1..=100).
    pub capacity: u32,
    /// One slot per scheduled intervention, in the given order.
    pub slots: Vec<RoadmapSlot>,
    /// When the last intervention ends, in weeks from the start date (0.0 when there is none).
    pub total_weeks: f64,
}

/// Lays the ordered interventions into weeks for a team of `capacity` engineers (clamped to
/// 1..=100).
///
/// Model: an intervention is one engineer's stream of work lasting `effort_weeks` (Brooks:
/// splitting one structural change across people rarely shortens it); more engineers run more
/// interventions side by side. Walking `order`, each intervention starts at the later of (a) when
/// all its dependencies end and (b) when an engineer is free — choosing the engineer with whom it
/// can start earliest (lowest-numbered engineer on ties), so at no moment do more than `capacity`
/// interventions run at once. Engineers take work in the order given and do not go back to fill
/// an earlier idle gap, so the roadmap follows the agreed priorities.
///
/// Ids in `order` not in `items` are skipped, as are repeats of an id already placed. A dependency
/// that is not placed before its dependent (absent from `order`, or listed after it) does not delay
/// it; [`computed_order`] and [`effective_order`] always list dependencies first. Efforts are
/// treated as in [`priority`] and rounded to 1/1000 week.
pub fn schedule(order: &[i64], items: &[PlanItem], capacity: u32) -> Roadmap {
    let capacity = capacity.clamp(1, MAX_CAPACITY);
    let graph = Graph::new(items);
    // Milliweeks: integers, so sums are exact. Float-to-int `as` saturates; adds saturate too.
    let mut free_at = vec![0_u64; capacity as usize];
    let mut end_of: Vec<Option<u64>> = vec![None; graph.len()];
    let mut slots = Vec::with_capacity(order.len().min(graph.len()));
    let mut total = 0_u64;
    for id in order {
        let Some(&index) = graph.index.get(id) else {
            continue;
        };
        if end_of[index].is_some() {
            continue;
        }
        let ready = graph.deps[index]
            .iter()
            .filter_map(|&dependency| end_of[dependency])
            .max()
            .unwrap_or(0);
        let mut lane = 0;
        let mut start = u64::MAX;
        for (candidate, &free) in free_at.iter().enumerate() {
            let candidate_start = free.max(ready);
            if candidate_start < start {
                start = candidate_start;
                lane = candidate;
            }
        }
        let length = (effective_effort(graph.items[index].effort_weeks) * MILLIWEEKS_PER_WEEK)
            .round() as u64;
        let end = start.saturating_add(length);
        if let Some(free) = free_at.get_mut(lane) {
            *free = end;
        }
        end_of[index] = Some(end);
        total = total.max(end);
        slots.push(RoadmapSlot {
            id: *id,
            engineer: u32::try_from(lane + 1).unwrap_or(capacity),
            start_week: weeks(start),
            end_week: weeks(end),
        });
    }
    Roadmap {
        capacity,
        slots,
        total_weeks: weeks(total),
    }
}

/// Milliweeks back to weeks.
fn weeks(milliweeks: u64) -> f64 {
    milliweeks as f64 / MILLIWEEKS_PER_WEEK
}

/// The items as a dependency graph over indices: duplicates dropped (first kept), dependencies on
/// unknown ids dropped, repeated dependencies listed once.
struct Graph<'a> {
    /// The kept items, in input order.
    items: Vec<&'a PlanItem>,
    /// `ids[i]` is `items[i].id`.
    ids: Vec<i64>,
    /// Id to index. Only looked up, never iterated, so its order cannot leak into results.
    index: HashMap<i64, usize>,
    /// `deps[i]`: indices item `i` depends on, in the order listed (may include `i` itself).
    deps: Vec<Vec<usize>>,
}

impl<'a> Graph<'a> {
    fn new(all: &'a [PlanItem]) -> Self {
        let mut index = HashMap::with_capacity(all.len());
        let mut items = Vec::with_capacity(all.len());
        for item in all {
            if let Entry::Vacant(slot) = index.entry(item.id) {
                slot.insert(items.len());
                items.push(item);
            }
        }
        let deps = items
            .iter()
            .map(|item| {
                let mut deps: Vec<usize> = Vec::with_capacity(item.depends_on.len());
                for id in &item.depends_on {
                    if let Some(&dependency) = index.get(id) {
                        if !deps.contains(&dependency) {
                            deps.push(dependency);
                        }
                    }
                }
                deps
            })
            .collect();
        let ids = items.iter().map(|item| item.id).collect();
        Graph {
            items,
            ids,
            index,
            deps,
        }
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    /// A depth-first post-order (every dependency before its dependents), or the first cycle met.
    /// Iterative, so a long chain of dependencies cannot overflow the stack.
    fn dependencies_first(&self) -> Result<Vec<usize>, DependencyCycle> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let mut mark = vec![Mark::New; self.len()];
        let mut post_order = Vec::with_capacity(self.len());
        // The current path: (node, how many of its dependencies were followed).
        let mut path: Vec<(usize, usize)> = Vec::new();
        for root in 0..self.len() {
            if mark[root] != Mark::New {
                continue;
            }
            mark[root] = Mark::OnPath;
            path.push((root, 0));
            while let Some(top) = path.last_mut() {
                let (node, next) = *top;
                let Some(&dependency) = self.deps[node].get(next) else {
                    mark[node] = Mark::Done;
                    post_order.push(node);
                    path.pop();
                    continue;
                };
                top.1 += 1;
                match mark[dependency] {
                    Mark::New => {
                        mark[dependency] = Mark::OnPath;
                        path.push((dependency, 0));
                    }
                    Mark::OnPath => {
                        // The path from `dependency` to `node` plus the edge back closes the circle.
                        let from = path
                            .iter()
                            .position(|&(on_path, _)| on_path == dependency)
                            .unwrap_or(0);
                        return Err(DependencyCycle {
                            ids: path[from..].iter().map(|&(n, _)| self.ids[n]).collect(),
                        });
                    }
                    Mark::Done => {}
                }
            }
        }
        Ok(post_order)
    }

    /// The computed order as indices, given any dependencies-first order of the (acyclic) graph.
    fn computed(&self, dependencies_first: &[usize]) -> Vec<usize> {
        let own: Vec<f64> = self
            .items
            .iter()
            .map(|item| priority(item.impact, item.confidence, item.effort_weeks))
            .collect();
        // Walking dependents before dependencies, hand each one's effective priority down.
        let mut effective = own.clone();
        for &node in dependencies_first.iter().rev() {
            for &dependency in &self.deps[node] {
                if effective[node] > effective[dependency] {
                    effective[dependency] = effective[node];
                }
            }
        }

        let mut waiting_on: Vec<usize> = self.deps.iter().map(Vec::len).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); self.len()];
        for (node, deps) in self.deps.iter().enumerate() {
            for &dependency in deps {
                dependents[dependency].push(node);
            }
        }
        let key = |index: usize| Ready {
            effective: effective[index],
            own: own[index],
            index,
        };
        let mut ready: BinaryHeap<Ready> = (0..self.len())
            .filter(|&index| waiting_on[index] == 0)
            .map(key)
            .collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(Ready { index, .. }) = ready.pop() {
            order.push(index);
            for &dependent in &dependents[index] {
                waiting_on[dependent] = waiting_on[dependent].saturating_sub(1);
                if waiting_on[dependent] == 0 {
                    ready.push(key(dependent));
                }
            }
        }
        order
    }
}

/// An item whose dependencies are all placed, ranked for the max-heap: higher effective priority,
/// then higher own priority, then earlier in the input.
struct Ready {
    effective: f64,
    own: f64,
    index: usize,
}

impl Ord for Ready {
    fn cmp(&self, other: &Self) -> Ordering {
        self.effective
            .total_cmp(&other.effective)
            .then(self.own.total_cmp(&other.own))
            .then(other.index.cmp(&self.index))
    }
}

impl PartialOrd for Ready {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ready {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ready {}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: i64, impact: u32, effort_weeks: f64, depends_on: &[i64]) -> PlanItem {
        PlanItem {
            id,
            impact,
            confidence: 1.0,
            effort_weeks,
            depends_on: depends_on.to_vec(),
        }
    }

    fn slot(id: i64, engineer: u32, start_week: f64, end_week: f64) -> RoadmapSlot {
        RoadmapSlot {
            id,
            engineer,
            start_week,
            end_week,
        }
    }

    #[test]
    fn priority_is_impact_per_week_and_never_divides_by_zero() {
        assert_eq!(priority(4, 1.0, 2.0), 2.0);
        assert_eq!(priority(5, 0.5, 1.0), 2.5);
        for effort in [0.0, -3.0, f64::NAN, f64::NEG_INFINITY, f64::INFINITY, 0.01] {
            assert_eq!(priority(1, 1.0, effort), 10.0, "effort {effort}");
        }
        assert_eq!(priority(5, f64::NAN, 1.0), 0.0);
        assert_eq!(priority(5, -1.0, 1.0), 0.0);
        assert_eq!(priority(5, 7.0, 1.0), 5.0);
        assert_eq!(priority(u32::MAX, 1.0, 0.0), f64::from(u32::MAX) * 10.0);
    }

    #[test]
    fn a_dependency_comes_before_its_more_valuable_dependent() {
        // 2 is worth more, but needs 1.
        let items = [item(1, 1, 4.0, &[]), item(2, 5, 1.0, &[1])];
        assert_eq!(computed_order(&items), Ok(vec![1, 2]));
    }

    #[test]
    fn an_enabler_is_pulled_forward_right_before_what_it_unblocks() {
        // 3 is the most valuable and needs the cheap-looking 1; 2 is middling.
        let items = [
            item(1, 1, 10.0, &[]),
            item(2, 3, 1.0, &[]),
            item(3, 5, 1.0, &[1]),
        ];
        assert_eq!(computed_order(&items), Ok(vec![1, 3, 2]));
        // Without the dependency, 1 would come last.
        let free = [
            item(1, 1, 10.0, &[]),
            item(2, 3, 1.0, &[]),
            item(3, 5, 1.0, &[]),
        ];
        assert_eq!(computed_order(&free), Ok(vec![3, 2, 1]));
    }

    #[test]
    fn ties_keep_input_order() {
        let items = [
            item(9, 2, 1.0, &[]),
            item(4, 2, 1.0, &[]),
            item(7, 2, 1.0, &[]),
        ];
        assert_eq!(computed_order(&items), Ok(vec![9, 4, 7]));
    }

    #[test]
    fn unknown_dependencies_and_duplicate_ids_are_ignored() {
        let items = [
            item(1, 1, 1.0, &[42]),
            item(2, 5, 1.0, &[]),
            item(1, 5, 1.0, &[2, 1]),
        ];
        assert_eq!(find_cycle(&items), None);
        assert_eq!(computed_order(&items), Ok(vec![2, 1]));
        assert_eq!(computed_order(&[]), Ok(vec![]));
    }

    #[test]
    fn a_three_cycle_is_named_in_dependency_order() {
        // 1 depends on 2, 2 on 3, 3 on 1; 4 hangs off the cycle.
        let items = [
            item(4, 1, 1.0, &[1]),
            item(1, 1, 1.0, &[2]),
            item(2, 1, 1.0, &[3]),
            item(3, 1, 1.0, &[1]),
        ];
        let cycle = DependencyCycle { ids: vec![1, 2, 3] };
        assert_eq!(find_cycle(&items), Some(cycle.clone()));
        assert_eq!(computed_order(&items), Err(cycle.clone()));
        assert_eq!(effective_order(&items, &[4]), Err(cycle));
    }

    #[test]
    fn a_self_dependency_is_a_cycle() {
        let items = [item(1, 1, 1.0, &[]), item(2, 1, 1.0, &[2])];
        let cycle = DependencyCycle { ids: vec![2] };
        assert_eq!(find_cycle(&items), Some(cycle.clone()));
        assert_eq!(computed_order(&items), Err(cycle));
    }

    #[test]
    fn pins_are_checked() {
        let items = [
            item(1, 1, 1.0, &[]),
            item(2, 1, 1.0, &[1]),
            item(3, 1, 1.0, &[]),
        ];
        assert_eq!(check_pinned_order(&items, &[1, 2]), Ok(()));
        assert_eq!(check_pinned_order(&items, &[3]), Ok(()));
        // 1 is not in the pin: effective_order places it.
        assert_eq!(check_pinned_order(&items, &[2, 3]), Ok(()));
        assert_eq!(check_pinned_order(&items, &[]), Ok(()));
        assert_eq!(
            check_pinned_order(&items, &[3, 2, 1]),
            Err(PinProblem::DependencyAfter {
                id: 2,
                dependency: 1
            })
        );
        assert_eq!(
            check_pinned_order(&items, &[1, 8, 2]),
            Err(PinProblem::Unknown { id: 8 })
        );
        assert_eq!(
            check_pinned_order(&items, &[1, 3, 1]),
            Err(PinProblem::Duplicate { id: 1 })
        );
    }

    #[test]
    fn the_shown_order_follows_the_pin_and_pulls_dependencies_forward() {
        // Computed: 3 (5/1), 1 (needs nothing), 2, 4.
        let items = [
            item(1, 1, 1.0, &[]),
            item(2, 2, 4.0, &[1]),
            item(3, 5, 1.0, &[]),
            item(4, 1, 8.0, &[]),
        ];
        assert_eq!(computed_order(&items), Ok(vec![3, 1, 2, 4]));
        assert_eq!(effective_order(&items, &[]), Ok(vec![3, 1, 2, 4]));
        assert_eq!(effective_order(&items, &[4]), Ok(vec![4, 3, 1, 2]));
        // 2 pinned first: its unpinned dependency 1 goes right before it.
        assert_eq!(effective_order(&items, &[4, 2]), Ok(vec![4, 1, 2, 3]));
        // Stale and repeated pin entries are ignored.
        assert_eq!(effective_order(&items, &[99, 4, 4]), Ok(vec![4, 3, 1, 2]));
        // A stale pin listing a dependency late: the dependency is still shown first.
        assert_eq!(effective_order(&items, &[2, 1]), Ok(vec![1, 2, 3, 4]));
    }

    #[test]
    fn transitive_dependencies_are_pulled_forward_in_dependency_order() {
        let items = [
            item(1, 1, 1.0, &[]),
            item(2, 1, 1.0, &[1]),
            item(3, 1, 1.0, &[2]),
            item(4, 5, 1.0, &[]),
        ];
        assert_eq!(effective_order(&items, &[3]), Ok(vec![1, 2, 3, 4]));
    }

    #[test]
    fn departures_list_only_moved_ids() {
        assert_eq!(departures(&[1, 2, 3], &[1, 2, 3]), vec![]);
        assert_eq!(
            departures(&[1, 2, 3, 4], &[3, 2, 1, 4]),
            vec![
                OrderDeparture {
                    id: 3,
                    computed_position: 3,
                    shown_position: 1
                },
                OrderDeparture {
                    id: 1,
                    computed_position: 1,
                    shown_position: 3
                },
            ]
        );
        // Ids missing from either side are not compared.
        assert_eq!(departures(&[1, 2], &[5, 2]), vec![] as Vec<OrderDeparture>);
    }

    #[test]
    fn one_engineer_works_through_the_order() {
        let items = [
            item(1, 1, 2.0, &[]),
            item(2, 1, 1.5, &[]),
            item(3, 1, 0.0, &[]),
        ];
        let roadmap = schedule(&[2, 1, 3, 99, 1], &items, 1);
        assert_eq!(
            roadmap,
            Roadmap {
                capacity: 1,
                slots: vec![
                    slot(2, 1, 0.0, 1.5),
                    slot(1, 1, 1.5, 3.5),
                    slot(3, 1, 3.5, 3.6),
                ],
                total_weeks: 3.6,
            }
        );
        assert_eq!(schedule(&[2], &items, 0).capacity, 1);
        assert_eq!(schedule(&[2], &items, 1000).capacity, 100);
    }

    #[test]
    fn two_engineers_work_side_by_side() {
        let items = [
            item(1, 1, 2.0, &[]),
            item(2, 1, 1.0, &[]),
            item(3, 1, 1.0, &[]),
            item(4, 1, 3.0, &[]),
        ];
        let roadmap = schedule(&[1, 2, 3, 4], &items, 2);
        assert_eq!(
            roadmap.slots,
            vec![
                slot(1, 1, 0.0, 2.0),
                slot(2, 2, 0.0, 1.0),
                slot(3, 2, 1.0, 2.0),
                slot(4, 1, 2.0, 5.0),
            ]
        );
        assert_eq!(roadmap.total_weeks, 5.0);
    }

    #[test]
    fn a_dependency_delays_a_start() {
        let items = [
            item(1, 1, 3.0, &[]),
            item(2, 1, 1.0, &[1]),
            item(3, 1, 1.0, &[]),
        ];
        let roadmap = schedule(&[1, 2, 3], &items, 2);
        // 2 waits for 1 although engineer 2 is free: either engineer could start it at week 3,
        // so the lowest-numbered takes it. 3 then starts at once on engineer 2.
        assert_eq!(
            roadmap.slots,
            vec![
                slot(1, 1, 0.0, 3.0),
                slot(2, 1, 3.0, 4.0),
                slot(3, 2, 0.0, 1.0),
            ]
        );
        assert_eq!(roadmap.total_weeks, 4.0);
    }

    #[test]
    fn weeks_do_not_drift() {
        let items: Vec<PlanItem> = (0..30).map(|id| item(id, 1, 0.1, &[])).collect();
        let order: Vec<i64> = (0..30).collect();
        let roadmap = schedule(&order, &items, 1);
        assert_eq!(roadmap.total_weeks, 3.0);
        assert_eq!(roadmap.slots.last().map(|s| s.start_week), Some(2.9));
    }

    #[test]
    fn absurd_input_does_not_panic() {
        let items = [
            PlanItem {
                id: i64::MIN,
                impact: u32::MAX,
                confidence: f64::NAN,
                effort_weeks: f64::INFINITY,
                depends_on: vec![i64::MAX, i64::MIN, i64::MIN],
            },
            PlanItem {
                id: i64::MAX,
                impact: 0,
                confidence: f64::INFINITY,
                effort_weeks: 1e308,
                depends_on: vec![],
            },
        ];
        assert!(find_cycle(&items).is_some());
        let roadmap = schedule(&[i64::MAX, i64::MAX, i64::MIN], &items, 3);
        assert!(roadmap.total_weeks.is_finite());
        assert_eq!(roadmap.slots.len(), 2);
    }
}
