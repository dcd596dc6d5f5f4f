//! How big a document is as the engine would walk it: its fields, arguments, directives and
//! variables, every fragment counted each time it is spread. Validation does work (and may
//! report an error) for each of them, and spreads it once per spread: an 868 KiB document of
//! 100,000 unknown arguments (`me(a0: 1 … a99999: 1)`) cost 1.4 s of CPU and answered 17 MB of
//! errors, and a few fragments each spreading the next twice make a short text walked
//! millions of times. Documents over these bounds are refused before validation starts.

use std::collections::HashMap;

use async_graphql::parser::types::{
    Directive, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned};

/// The longest document accepted, in bytes: checked on the text, before it is parsed. The
/// schema's whole introspection query is about 2 KiB, a dashboard's largest query about 3.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// The most parts (fields, arguments, directives, variables) one document may hold, fragments
/// counted where they are spread. The introspection query holds about 250, a page of
/// subscribers with all their fields about 80.
pub const MAX_DOCUMENT_PARTS: usize = 2_000;

/// The parts of `document`, every operation's, fragments counted once per spread (a fragment
/// spread inside itself counts nothing more: validation refuses the cycle).
pub fn document_parts(document: &ExecutableDocument) -> usize {
    let mut counter = PartCounter {
        fragments: &document.fragments,
        counted: HashMap::new(),
    };
    document
        .operations
        .iter()
        .map(|(_, operation)| {
            let operation = &operation.node;
            let variables = operation
                .variable_definitions
                .iter()
                .map(|variable| 1 + directive_parts(&variable.node.directives))
                .fold(0, usize::saturating_add);
            variables
                .saturating_add(directive_parts(&operation.directives))
                .saturating_add(counter.selection_set(&operation.selection_set.node))
        })
        .fold(0, usize::saturating_add)
}

fn directive_parts(directives: &[Positioned<Directive>]) -> usize {
    directives
        .iter()
        .map(|directive| 1 + directive.node.arguments.len())
        .fold(0, usize::saturating_add)
}

struct PartCounter<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    /// Each fragment's parts once counted; `None` while it is being counted.
    counted: HashMap<&'a str, Option<usize>>,
}

impl<'a> PartCounter<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    (1 + field.arguments.len())
                        .saturating_add(directive_parts(&field.directives))
                        .saturating_add(self.selection_set(&field.selection_set.node))
                }
                Selection::InlineFragment(fragment) => directive_parts(&fragment.node.directives)
                    .saturating_add(self.selection_set(&fragment.node.selection_set.node)),
                Selection::FragmentSpread(spread) => directive_parts(&spread.node.directives)
                    .saturating_add(self.fragment(spread.node.fragment_name.node.as_str())),
            })
            .fold(0, usize::saturating_add)
    }

    fn fragment(&mut self, name: &'a str) -> usize {
        match self.counted.get(name) {
            Some(parts) => return parts.unwrap_or(0),
            None => {
                self.counted.insert(name, None);
            }
        }
        let parts = self.fragments.get(name).map_or(0, |fragment| {
            directive_parts(&fragment.node.directives)
                .saturating_add(self.selection_set(&fragment.node.selection_set.node))
        });
        self.counted.insert(name, Some(parts));
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(document: &str) -> usize {
        document_parts(&async_graphql::parser::parse_query(document).unwrap())
    }

    #[test]
    fn fields_arguments_directives_and_variables_are_counted() {
        assert_eq!(parts("{ me { id } }"), 2);
        assert_eq!(parts("{ me(a: 1, b: 2) { id @skip(if: true) } }"), 6);
        assert_eq!(
            parts("query($x: Int = 1) @a { tags(first: $x) { totalCount } }"),
            5
        );
        let flood = (0..1000)
            .map(|i| format!("a{i}: 1"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(parts(&format!("{{ me({flood}) {{ id }} }}")), 1002);
    }

    #[test]
    fn fragments_count_once_per_spread_and_a_cycle_ends() {
        assert_eq!(
            parts("{ me { ...F ...F } } fragment F on Me { id email }"),
            5
        );
        // F0 spreads F1 twice, F1 spreads F2 twice, …: 2^40 fields in a few hundred bytes.
        let mut document = String::from("{ ...F0 }");
        for i in 0..40 {
            document.push_str(&format!(
                " fragment F{i} on Query {{ ...F{} ...F{} }}",
                i + 1,
                i + 1
            ));
        }
        document.push_str(" fragment F40 on Query { __typename }");
        assert_eq!(parts(&document), 1 << 40);
        assert_eq!(
            parts("{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }"),
            1
        );
    }
}
