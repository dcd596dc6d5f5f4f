//! Limits a request's document must keep besides depth and complexity: aliases. Aliases let
//! one request repeat a field many times (a thousand `logIn`s in one POST would go around the
//! per-request sign-in limit), so their number is capped when the document is parsed.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensions, Pos, ServerResult, Variables};

/// Caps the aliases of a document.
pub(crate) struct AliasLimit(pub usize);

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension(self.0))
    }
}

struct AliasLimitExtension(usize);

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Every alias written in the document (fragments counted once).
pub(crate) fn alias_count(document: &ExecutableDocument) -> usize {
    let in_operations: usize = document
        .operations
        .iter()
        .map(|(_, operation)| aliases_in(&operation.node.selection_set.node))
        .sum();
    let in_fragments: usize = document
        .fragments
        .values()
        .map(|fragment| aliases_in(&fragment.node.selection_set.node))
        .sum();
    in_operations + in_fragments
}

#[async_trait::async_trait]
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let count = alias_count(&document);
        if count > self.0 {
            let error = async_graphql::Error::new(format!(
                "the request uses {count} aliases; at most {} are allowed",
                self.0
            ))
            .extend_with(|_, e| {
                e.set("code", "VALIDATION");
                e.set("field", "query");
            });
            return Err(error.into_server_error(Pos::default()));
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_counted_in_operations_fragments_and_inline_fragments() {
        let document = async_graphql::parser::parse_query(
            "query { a: me { id } b: me { ... on Me { c: user { id } } ...F } }
             fragment F on Me { d: tenant { id } e: tenant { id } }",
        )
        .unwrap();
        assert_eq!(alias_count(&document), 5);
    }
}
