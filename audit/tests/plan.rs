//! Properties of intervention planning that hold for any acyclic set of dependencies, whatever the
//! input order: the computed order is a dependencies-first permutation and stable on ties, a
//! pinned order never shows a dependency after its dependent, the roadmap never overbooks the team
//! nor starts work before its enablers end, and a reported cycle is a real one.
use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use proptest::sample::Index;

use audit::interventions::{
    check_pinned_order, computed_order, effective_order, find_cycle, schedule, PlanItem,
};

/// An id that is never an item's, to check that dependencies on it are ignored.
const GONE: i64 = 1_000_000;

/// Item `index`'s id: spread out and partly negative, so ids are not confused with positions.
fn id_of(index: usize) -> i64 {
    i64::try_from(index).unwrap_or(0) * 7 - 20
}

/// One item's figures: impact, confidence, effort in hundredths of a week, picks among earlier
/// items to depend on, and whether it also names an id that does not exist.
type Shape = (u32, f64, u32, Vec<Index>, bool);

fn shape() -> impl Strategy<Value = Shape> {
    (
        1..=5_u32,
        prop::sample::select(vec![0.5, 0.8, 1.0]),
        // Few distinct efforts, so equal priorities (ties) are common.
        prop::sample::select(vec![25_u32, 50, 100, 150, 200, 400, 1_300]),
        prop::collection::vec(any::<Index>(), 0..4),
        prop::bool::weighted(0.1),
    )
}

/// Items in index order, each depending only on items with a smaller index: acyclic by
/// construction.
fn build(shapes: Vec<Shape>) -> Vec<PlanItem> {
    shapes
        .into_iter()
        .enumerate()
        .map(|(index, (impact, confidence, effort, picks, gone))| {
            let mut depends_on: Vec<i64> = if index == 0 {
                vec![]
            } else {
                picks.iter().map(|pick| id_of(pick.index(index))).collect()
            };
            if gone {
                depends_on.push(GONE);
            }
            PlanItem {
                id: id_of(index),
                impact,
                confidence,
                effort_weeks: f64::from(effort) / 100.0,
                depends_on,
            }
        })
        .collect()
}

/// A random acyclic plan, in index order.
fn dag() -> impl Strategy<Value = Vec<PlanItem>> {
    prop::collection::vec(shape(), 0..14).prop_map(build)
}

/// A random acyclic plan, in shuffled input order.
fn shuffled_dag() -> impl Strategy<Value = Vec<PlanItem>> {
    dag().prop_flat_map(|items| Just(items).prop_shuffle())
}

/// Known dependencies of each item, by id.
fn dependencies(items: &[PlanItem]) -> HashMap<i64, Vec<i64>> {
    let ids: HashSet<i64> = items.iter().map(|item| item.id).collect();
    items
        .iter()
        .map(|item| {
            let known = item
                .depends_on
                .iter()
                .copied()
                .filter(|id| ids.contains(id))
                .collect();
            (item.id, known)
        })
        .collect()
}

/// Every known dependency appears before its dependent in `order`.
fn dependencies_first(items: &[PlanItem], order: &[i64]) -> Result<(), TestCaseError> {
    let position: HashMap<i64, usize> = order.iter().enumerate().map(|(p, &id)| (id, p)).collect();
    for (id, deps) in dependencies(items) {
        for dependency in deps {
            prop_assert!(
                position.get(&dependency) < position.get(&id),
                "{dependency} must come before {id} in {order:?}"
            );
        }
    }
    Ok(())
}

/// `order` lists each item's id exactly once.
fn is_permutation(items: &[PlanItem], order: &[i64]) -> Result<(), TestCaseError> {
    let mut expected: Vec<i64> = items.iter().map(|item| item.id).collect();
    let mut got = order.to_vec();
    expected.sort_unstable();
    got.sort_unstable();
    prop_assert_eq!(got, expected);
    Ok(())
}

/// Ids `id` depends on, directly or through others.
fn transitive_dependencies(deps: &HashMap<i64, Vec<i64>>, id: i64) -> HashSet<i64> {
    let mut found = HashSet::new();
    let mut stack = vec![id];
    while let Some(node) = stack.pop() {
        for &dependency in deps.get(&node).map(Vec::as_slice).unwrap_or_default() {
            if found.insert(dependency) {
                stack.push(dependency);
            }
        }
    }
    found
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn computed_order_is_a_dependencies_first_permutation(items in shuffled_dag()) {
        prop_assert_eq!(find_cycle(&items), None);
        let order = computed_order(&items);
        prop_assert!(order.is_ok(), "{:?}", order);
        let order = order.unwrap_or_default();
        is_permutation(&items, &order)?;
        dependencies_first(&items, &order)?;
    }

    #[test]
    fn equal_items_without_dependencies_keep_input_order(items in shuffled_dag()) {
        let order = computed_order(&items).unwrap_or_default();
        let depended_on: HashSet<i64> =
            items.iter().flat_map(|item| item.depends_on.iter().copied()).collect();
        // Items that neither depend on anything nor are depended on, grouped by their figures.
        let mut groups: HashMap<(u32, u64, u64), Vec<i64>> = HashMap::new();
        for item in &items {
            if item.depends_on.iter().all(|&d| d == GONE) && !depended_on.contains(&item.id) {
                groups
                    .entry((item.impact, item.confidence.to_bits(), item.effort_weeks.to_bits()))
                    .or_default()
                    .push(item.id);
            }
        }
        for input_order in groups.values() {
            let output_order: Vec<i64> =
                order.iter().copied().filter(|id| input_order.contains(id)).collect();
            prop_assert_eq!(&output_order, input_order);
        }
    }

    #[test]
    fn identical_independent_items_keep_input_order(
        ids in prop::collection::hash_set(any::<i64>(), 0..20),
        impact in 1..=5_u32,
    ) {
        let ids: Vec<i64> = ids.into_iter().collect();
        let items: Vec<PlanItem> = ids
            .iter()
            .map(|&id| PlanItem { id, impact, confidence: 0.8, effort_weeks: 2.0, depends_on: vec![] })
            .collect();
        prop_assert_eq!(computed_order(&items), Ok(ids));
    }

    #[test]
    fn the_roadmap_respects_capacity_dependencies_and_effort(
        items in shuffled_dag(),
        capacity in 0..7_u32,
    ) {
        let order = computed_order(&items).unwrap_or_default();
        let roadmap = schedule(&order, &items, capacity);
        let lanes = capacity.clamp(1, 100);
        prop_assert_eq!(roadmap.capacity, lanes);

        // Each ordered id exactly once, in the given order.
        let slot_ids: Vec<i64> = roadmap.slots.iter().map(|slot| slot.id).collect();
        prop_assert_eq!(&slot_ids, &order);

        let item_of: HashMap<i64, &PlanItem> = items.iter().map(|item| (item.id, item)).collect();
        let slot_of: HashMap<i64, _> = roadmap.slots.iter().map(|slot| (slot.id, slot)).collect();
        let deps = dependencies(&items);
        let mut last_end = 0.0_f64;
        for slot in &roadmap.slots {
            prop_assert!((1..=lanes).contains(&slot.engineer));
            prop_assert!(slot.start_week >= 0.0);
            let effort = item_of.get(&slot.id).map_or(0.0, |item| item.effort_weeks);
            prop_assert!(
                (slot.end_week - slot.start_week - effort).abs() < 1e-9,
                "{slot:?} lasts {effort}"
            );
            for dependency in deps.get(&slot.id).map(Vec::as_slice).unwrap_or_default() {
                let dependency_end = slot_of.get(dependency).map_or(f64::INFINITY, |d| d.end_week);
                prop_assert!(slot.start_week >= dependency_end, "{slot:?} before {dependency} ends");
            }
            // At no slot's start do more than `capacity` slots run at once.
            let running = roadmap
                .slots
                .iter()
                .filter(|other| other.start_week <= slot.start_week && slot.start_week < other.end_week)
                .count();
            prop_assert!(running <= lanes as usize, "{running} running at {}", slot.start_week);
            // Nor does one engineer do two things at once.
            for other in &roadmap.slots {
                if other.id != slot.id && other.engineer == slot.engineer {
                    prop_assert!(
                        other.end_week <= slot.start_week || slot.end_week <= other.start_week,
                        "{slot:?} overlaps {other:?}"
                    );
                }
            }
            last_end = last_end.max(slot.end_week);
        }
        prop_assert_eq!(roadmap.total_weeks, last_end);
    }

    #[test]
    fn a_valid_pin_still_puts_dependencies_first(
        items in shuffled_dag(),
        // Reweighting the items yields another valid order, of which the pin is a random part.
        impacts in prop::collection::vec(1..=5_u32, 14),
        keep in prop::collection::vec(any::<bool>(), 14),
    ) {
        let reweighted: Vec<PlanItem> = items
            .iter()
            .zip(&impacts)
            .map(|(item, &impact)| PlanItem { impact, ..item.clone() })
            .collect();
        let pinned: Vec<i64> = computed_order(&reweighted)
            .unwrap_or_default()
            .into_iter()
            .zip(&keep)
            .filter_map(|(id, &kept)| kept.then_some(id))
            .collect();
        prop_assert_eq!(check_pinned_order(&items, &pinned), Ok(()));

        let shown = effective_order(&items, &pinned);
        prop_assert!(shown.is_ok(), "{:?}", shown);
        let shown = shown.unwrap_or_default();
        is_permutation(&items, &shown)?;
        dependencies_first(&items, &shown)?;

        // The pinned ids keep their pinned order.
        let pinned_set: HashSet<i64> = pinned.iter().copied().collect();
        let shown_pinned: Vec<i64> =
            shown.iter().copied().filter(|id| pinned_set.contains(id)).collect();
        prop_assert_eq!(&shown_pinned, &pinned);

        // Before the last pinned id, an unpinned id is there only because a pinned one needs it;
        // after it, the rest follow the computed order.
        let deps = dependencies(&items);
        let needed: HashSet<i64> =
            pinned.iter().flat_map(|&id| transitive_dependencies(&deps, id)).collect();
        let last_pinned = shown.iter().rposition(|id| pinned_set.contains(id)).map_or(0, |p| p + 1);
        for id in &shown[..last_pinned] {
            prop_assert!(pinned_set.contains(id) || needed.contains(id), "{id} shown early");
        }
        let computed = computed_order(&items).unwrap_or_default();
        let rest: HashSet<i64> = shown[last_pinned..].iter().copied().collect();
        let computed_rest: Vec<i64> = computed.into_iter().filter(|id| rest.contains(id)).collect();
        prop_assert_eq!(&shown[last_pinned..], computed_rest.as_slice());
    }

    #[test]
    fn a_reported_cycle_is_real(
        items in dag(),
        from in any::<Index>(),
        to in any::<Index>(),
        order in any::<Index>(),
    ) {
        prop_assume!(!items.is_empty());
        // Inject a back edge: `from` depends on something that (transitively) depends on it.
        let mut items = items;
        let from = from.index(items.len());
        let from_id = items[from].id;
        let deps = dependencies(&items);
        let dependents: Vec<i64> = items
            .iter()
            .map(|item| item.id)
            .filter(|&id| id == from_id || transitive_dependencies(&deps, id).contains(&from_id))
            .collect();
        let to_id = dependents[to.index(dependents.len())];
        items[from].depends_on.push(to_id);
        // Rotate the input so the search starts elsewhere.
        let rotation = order.index(items.len());
        items.rotate_left(rotation);

        let cycle = find_cycle(&items);
        prop_assert!(cycle.is_some());
        let ids = cycle.map(|c| c.ids).unwrap_or_default();
        prop_assert!(!ids.is_empty());
        let distinct: HashSet<i64> = ids.iter().copied().collect();
        prop_assert_eq!(distinct.len(), ids.len(), "{:?} repeats an id", ids);
        let deps = dependencies(&items);
        for (k, id) in ids.iter().enumerate() {
            let next = ids[(k + 1) % ids.len()];
            let edge = deps.get(id).is_some_and(|d| d.contains(&next));
            prop_assert!(edge, "{id} does not depend on {next} in {ids:?}");
        }
        prop_assert_eq!(computed_order(&items).err().map(|c| c.ids), Some(ids.clone()));
        prop_assert!(effective_order(&items, &[]).is_err());
    }
}
