//! Limits a request's document must keep besides depth and complexity: aliases. Aliases let
//! one request repeat a field many times (a thousand `logIn`s in one POST would go around the
//! per-request sign-in limit), so their number is capped before the request is executed.
//!
//! The cap wraps the schema as an [`Executor`] rather than being a schema extension: with any
//! extension registered, async-graphql runs every field of every answer through the extension
//! chain (building a `ResolveInfo` and boxing a future per field): 3–4% of the server's CPU
//! on a subscribers page, measured; this cap only needs to look at the document once.

use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Data, ErrorExtensions, Executor, Pos, Request, Response};
use futures::stream::{self, BoxStream, StreamExt};

use crate::ExecutableSchema;

/// The executable schema behind the limits it cannot enforce itself (see the module's text).
#[derive(Clone)]
pub struct AppSchema {
    schema: ExecutableSchema,
    max_aliases: usize,
}

impl AppSchema {
    pub(crate) fn new(schema: ExecutableSchema, max_aliases: usize) -> Self {
        Self {
            schema,
            max_aliases,
        }
    }

    /// The refusal of a request over the cap; the parsed document stays on the request, so
    /// the schema does not parse it again. A request that does not parse passes, and the
    /// schema explains what is wrong with it.
    fn refusal(&self, request: &mut Request) -> Option<Response> {
        let count = alias_count(request.parsed_query().ok()?);
        if count <= self.max_aliases {
            return None;
        }
        let error = async_graphql::Error::new(format!(
            "the request uses {count} aliases; at most {} are allowed",
            self.max_aliases
        ))
        .extend_with(|_, e| {
            e.set("code", "VALIDATION");
            e.set("field", "query");
        });
        Some(Response::from_errors(vec![
            error.into_server_error(Pos::default()),
        ]))
    }
}

impl Executor for AppSchema {
    async fn execute(&self, mut request: Request) -> Response {
        match self.refusal(&mut request) {
            Some(refusal) => refusal,
            None => self.schema.execute(request).await,
        }
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self.refusal(&mut request) {
            Some(refusal) => stream::once(async move { refusal }).boxed(),
            None => self
                .schema
                .execute_stream_with_session_data(request, session_data.unwrap_or_default()),
        }
    }
}

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
