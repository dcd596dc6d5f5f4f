//! What list fields cost against the complexity limit. A field's cost is one plus what its
//! selection asks for; a list's is what one item asks for times the items it may hold, so the
//! limit follows the size of the answer whatever the shape of the query, cycles included
//! (`Flow.triggers` → `FlowTrigger.flow` → `Flow.triggers` … multiplies at every turn).
//!
//! Pages cost by their `first` ([`crate::connection::list_cost`]). Lists served whole cost by
//! the most items they can hold: a bound the domain enforces. The lists sized by what a
//! workspace holds (a subscriber's tags, custom field values and opt-ins, a user's
//! workspaces) cost by an estimate instead, [`TENANT_LIST_ESTIMATE`]: none of them lies on a
//! cycle of the schema (the `cost_of_every_list` test checks which lists do), so an
//! estimate under the truth can only scale a query's answer by a fixed factor, never
//! compound with depth.

use refhub_domain::analytics::MAX_REPORT_DAYS;
use refhub_domain::flows::{
    MAX_BUTTONS, MAX_HISTORY_ENTRIES, MAX_MANUAL_STARTS, MAX_QUICK_REPLIES, MAX_STEPS,
    MAX_TRIGGERS_PER_FLOW,
};

/// A flow's (or a run's) steps, costed as a typical flow's rather than by [`MAX_STEPS`]: the
/// list lies on no cycle, so an estimate under the bound scales an answer by a fixed factor at
/// most, and charging the bound (50) priced a dashboard's page of flows with their steps out of
/// the limit.
pub(crate) const STEPS: usize = TYPICAL_FLOW_STEPS;
/// A flow's trigger rules: on the cycle `Flow.triggers` → `FlowTrigger.flow`, so charged by
/// the bound the domain enforces, which compounds with every turn of the cycle as the answer
/// does.
pub(crate) const TRIGGERS: usize = MAX_TRIGGERS_PER_FLOW;
/// A run's history: two lines a step and two more (as [`MAX_HISTORY_ENTRIES`] counts them), for
/// a typical flow (off every cycle, as [`STEPS`]).
pub(crate) const HISTORY: usize = 2 * TYPICAL_FLOW_STEPS + 2;
/// The steps of a typical flow, for lists off every cycle that the domain bounds by
/// [`MAX_STEPS`].
const TYPICAL_FLOW_STEPS: usize = 10;
const _: () = assert!(TYPICAL_FLOW_STEPS <= MAX_STEPS && HISTORY <= MAX_HISTORY_ENTRIES);
/// A step's quick replies.
pub(crate) const QUICK_REPLIES: usize = MAX_QUICK_REPLIES;
/// A step's buttons.
pub(crate) const BUTTONS: usize = MAX_BUTTONS;
/// The tags a ref link adds (at most `MAX_TAGS_PER_LINK`, off every cycle: a typical few).
pub(crate) const LINK_TAGS: usize = TENANT_LIST_ESTIMATE;
/// The runs one `startFlow` starts.
pub(crate) const MANUAL_STARTS: usize = MAX_MANUAL_STARTS;
/// The days of a report.
pub(crate) const REPORT_DAYS: usize = MAX_REPORT_DAYS as usize;
/// The webhook fields a page is subscribed to (a constant list).
pub(crate) const SUBSCRIBED_FIELDS: usize = refhub_domain::catalogue::SUBSCRIBED_FIELDS.len();
/// The locales of a Messenger Profile property: sized by what a workspace sets, off every
/// cycle, so costed by the estimate (see the module's text).
pub(crate) const PROFILE_LOCALES: usize = TENANT_LIST_ESTIMATE;
/// The ice breakers of one locale.
pub(crate) const ICE_BREAKERS: usize =
    refhub_domain::catalogue::messenger_profile::MAX_ICE_BREAKERS;
/// The persistent menu items of one locale.
pub(crate) const MENU_ITEMS: usize = refhub_domain::catalogue::messenger_profile::MAX_MENU_ITEMS;
/// The items of a list sized by what a workspace holds (see the module's text).
///
/// Three, a typical subscriber's handful: a dashboard's page of 100 subscribers with their
/// fields, tags and opt-ins then costs about 7,500, within the limit, as it did before lists
/// were costed; the answer to any query still grows by at most this factor per such list.
pub(crate) const TENANT_LIST_ESTIMATE: usize = 3;

/// The cost of a list served whole: what one item asks for, times the most items it holds,
/// plus one for the list itself.
pub(crate) fn whole_list_cost(most_items: usize, child_complexity: usize) -> usize {
    most_items
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use async_graphql::registry::{MetaType, Registry};
    use async_graphql::{OutputType, SubscriptionType};

    use super::*;
    use crate::{MutationRoot, QueryRoot, SubscriptionRoot};

    /// Every type of the schema, as the engine registers them.
    fn registry() -> Registry {
        let mut registry = Registry::default();
        QueryRoot::create_type_info(&mut registry);
        MutationRoot::create_type_info(&mut registry);
        SubscriptionRoot::create_type_info(&mut registry);
        registry
    }

    /// The type a field returns, without list and non-null marks.
    fn named_type(ty: &str) -> &str {
        ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
    }

    /// Walks every field of every object and interface and names each list field the
    /// complexity limit would count as one field whatever its length. A list field without a
    /// cost of its own passes only on a type that no field returns without a cost (the
    /// `edges` and `nodes` of a connection, priced by the `first` of the field returning it).
    #[test]
    fn every_list_field_has_a_cost() {
        let registry = registry();
        let mut returned_without_cost: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (type_name, ty) in &registry.types {
            if let MetaType::Object { fields, .. } = ty {
                for field in fields.values() {
                    if field.compute_complexity.is_none() {
                        returned_without_cost
                            .entry(named_type(&field.ty))
                            .or_default()
                            .push(format!("{type_name}.{}", field.name));
                    }
                }
            }
        }
        let mut uncounted = Vec::new();
        for (type_name, ty) in &registry.types {
            match ty {
                MetaType::Object { fields, .. } => {
                    for field in fields.values() {
                        let is_list = field.ty.contains('[');
                        if is_list
                            && field.compute_complexity.is_none()
                            && let Some(reached_by) = returned_without_cost.get(type_name.as_str())
                        {
                            uncounted.push(format!(
                                "{type_name}.{}: {} (reached without a cost by {}, …)",
                                field.name, field.ty, reached_by[0]
                            ));
                        }
                    }
                }
                // The engine counts fields of interfaces as one each, costs or not.
                MetaType::Interface { fields, .. } => {
                    for field in fields.values().filter(|field| field.ty.contains('[')) {
                        uncounted.push(format!(
                            "{type_name}.{}: a list on an interface is never costed",
                            field.name
                        ));
                    }
                }
                _ => {}
            }
        }
        assert!(
            uncounted.is_empty(),
            "list fields the complexity limit does not count by their length:\n{}",
            uncounted.join("\n")
        );
    }

    /// The list fields on a cycle of the schema's types (an answer can nest them as deep as
    /// the depth limit allows). Each must cost by a bound the domain enforces, not by
    /// [`TENANT_LIST_ESTIMATE`]: a cycle compounds an estimate under the truth at every turn.
    #[test]
    fn lists_on_cycles_are_the_ones_costed_by_domain_bounds() {
        let registry = registry();
        let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (type_name, ty) in &registry.types {
            if let MetaType::Object { fields, .. } = ty {
                if [
                    registry.mutation_type.as_deref(),
                    registry.subscription_type.as_deref(),
                ]
                .contains(&Some(type_name.as_str()))
                {
                    continue;
                }
                for field in fields.values() {
                    edges
                        .entry(type_name.as_str())
                        .or_default()
                        .insert(named_type(&field.ty));
                }
            }
        }
        let reaches = |from: &str, to: &str| {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from];
            while let Some(at) = stack.pop() {
                for next in edges.get(at).into_iter().flatten() {
                    if *next == to {
                        return true;
                    }
                    if seen.insert(*next) {
                        stack.push(next);
                    }
                }
            }
            false
        };
        let mut on_cycles = BTreeSet::new();
        for (type_name, ty) in &registry.types {
            if let MetaType::Object { fields, .. } = ty {
                for field in fields.values().filter(|field| field.ty.contains('[')) {
                    let target = named_type(&field.ty);
                    if edges.contains_key(type_name.as_str()) && reaches(target, type_name) {
                        on_cycles.insert(format!("{type_name}.{}", field.name));
                    }
                }
            }
        }
        // Connections' `edges`/`nodes` are on a cycle when their items lead back; they are
        // priced by `first`. The one plain list on a cycle is a flow's rules, costed by
        // `MAX_TRIGGERS_PER_FLOW`.
        let plain: Vec<&String> = on_cycles
            .iter()
            .filter(|field| !field.contains("Connection.") && !field.contains("Edge."))
            .collect();
        assert_eq!(
            plain,
            ["Flow.triggers"],
            "a new plain list on a cycle must cost by a bound the domain enforces"
        );
    }

    #[test]
    fn a_list_costs_its_items_times_its_bound() {
        assert_eq!(whole_list_cost(20, 3), 61);
        assert_eq!(whole_list_cost(0, 3), 1);
        assert_eq!(whole_list_cost(usize::MAX, 2), usize::MAX);
    }
}
