//! Answers in the order the query asked for.
//!
//! async-graphql resolves a query's fields concurrently and writes each into the answer as it
//! completes (its issue #612), so `{ tenant { name } me { role } tags { totalCount } }` came back
//! as `me, tenant, tags` one time and `tenant, tags, me` the next. The GraphQL specification asks
//! for the query's order (section 7, "Serialized Map Ordering"), and clients that compare answers,
//! snapshot them or read them as a stream rely on it. This puts every object of an answer back in
//! the order of its selection set. It is a permutation: nothing is added or dropped, and a key
//! the selection does not explain stays, after the others.

use std::cell::OnceCell;
use std::collections::HashMap;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Value};

use crate::limits::operation_named;

/// Fragments spread inside fragments deeper than this are not followed (validation refuses
/// cycles before anything runs; this only bounds the walk).
const MAX_FRAGMENT_DEPTH: usize = 32;

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// `data`, with every object in the order `document`'s operation (`operation_name`, or its only
/// one) selects its fields.
pub(crate) fn in_query_order(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    mut data: Value,
) -> Value {
    if let Some(operation) = operation_named(document, operation_name) {
        let fragments = &document.fragments;
        Shape::of(&[&operation.node.selection_set.node], fragments).arrange(&mut data, fragments);
    }
    data
}

/// The order some selection sets give an object's response keys, and for each key the order of
/// its own value's keys, worked out the first time the answer holds an object there: once for
/// all the items of a list, however deep.
struct Shape<'a> {
    keys: IndexMap<&'a str, Key<'a>>,
}

/// One response key: the selection sets of its fields (a key selected twice merges both), and
/// their shape once needed.
#[derive(Default)]
struct Key<'a> {
    sets: Vec<&'a SelectionSet>,
    shape: OnceCell<Shape<'a>>,
}

impl<'a> Shape<'a> {
    fn of(sets: &[&'a SelectionSet], fragments: &'a Fragments) -> Self {
        let mut keys = IndexMap::new();
        for set in sets {
            collect(set, fragments, 0, &mut keys);
        }
        Self { keys }
    }

    /// Puts `value` (an object, or a list of them) in this order, and its values in theirs.
    fn arrange(&self, value: &mut Value, fragments: &'a Fragments) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.arrange(item, fragments);
                }
            }
            Value::Object(object) => {
                let mut unordered = std::mem::take(object);
                object.reserve(unordered.len());
                for (name, key) in &self.keys {
                    if let Some((name, mut field)) = unordered.shift_remove_entry(*name) {
                        if matches!(field, Value::Object(_) | Value::List(_)) {
                            key.shape
                                .get_or_init(|| Shape::of(&key.sets, fragments))
                                .arrange(&mut field, fragments);
                        }
                        object.insert(name, field);
                    }
                }
                object.extend(unordered);
            }
            _ => {}
        }
    }
}

/// The response keys `set` selects, in order, each with the selection sets of its fields,
/// through inline fragments and fragment spreads.
fn collect<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    depth: usize,
    keys: &mut IndexMap<&'a str, Key<'a>>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => keys
                .entry(field.node.response_key().node.as_str())
                .or_default()
                .sets
                .push(&field.node.selection_set.node),
            Selection::InlineFragment(fragment) => {
                collect(&fragment.node.selection_set.node, fragments, depth, keys);
            }
            Selection::FragmentSpread(spread) => {
                if depth < MAX_FRAGMENT_DEPTH
                    && let Some(fragment) = fragments.get(&spread.node.fragment_name.node)
                {
                    collect(
                        &fragment.node.selection_set.node,
                        fragments,
                        depth + 1,
                        keys,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use async_graphql::{Value, value};

    use super::in_query_order;

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(object) => object.keys().map(ToString::to_string).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn objects_follow_the_selection_through_aliases_fragments_and_lists() {
        let document = parse_query(
            "query Q { b: tenant { name id } me { ...Who } list { z a } }
             fragment Who on Me { role ... on Me { email } }",
        )
        .unwrap();
        let data = value!({
            "list": [{ "a": 1, "z": 2 }, { "a": 3, "z": 4 }],
            "me": { "email": "e", "role": "OWNER" },
            "b": { "id": "1", "name": "n" },
        });
        let ordered = in_query_order(&document, Some("Q"), data.clone());
        assert_eq!(keys(&ordered), ["b", "me", "list"]);
        let Value::Object(top) = &ordered else {
            panic!("{ordered:?}")
        };
        assert_eq!(keys(&top["b"]), ["name", "id"]);
        assert_eq!(keys(&top["me"]), ["role", "email"]);
        let Value::List(items) = &top["list"] else {
            panic!("{ordered:?}")
        };
        assert!(items.iter().all(|item| keys(item) == ["z", "a"]));
        assert_eq!(ordered, data, "the same answer, only in another order");
    }

    #[test]
    fn keys_the_selection_does_not_explain_are_kept_last() {
        let document = parse_query("{ a b }").unwrap();
        let ordered = in_query_order(&document, None, value!({ "x": 0, "b": 1, "a": 2 }));
        assert_eq!(keys(&ordered), ["a", "b", "x"]);
    }
}
