//! Limits a request's document must keep besides depth and complexity: its length, nesting and
//! size (see `document_size`), and aliases. Aliases let one request repeat a field many times
//! (a thousand `logIn`s in one POST would go around the per-request sign-in limit), so their
//! number is capped before the request is executed. The errors of any answer are capped too.
//!
//! The cap wraps the schema as an [`Executor`] rather than being a schema extension: with any
//! extension registered, async-graphql runs every field of every answer through the extension
//! chain (building a `ResolveInfo` and boxing a future per field): 3–4% of the server's CPU
//! on a subscribers page, measured; this cap only needs to look at the document once.

use std::sync::Arc;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Data, ErrorExtensions, Executor, Pos, Positioned, Request, Response};
use futures::stream::{self, BoxStream, StreamExt};

use crate::ExecutableSchema;
use crate::document_size::{MAX_DOCUMENT_BYTES, MAX_DOCUMENT_PARTS, document_parts};
use crate::error::{cap_errors, tag_uncoded_errors};
use crate::field_order::in_query_order;

/// The executable schema behind the limits it cannot enforce itself (see the module's text),
/// answering in the query's order (see `field_order`).
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

    /// The refusal of a request over a cap; the parsed document stays on the request, so
    /// the schema does not parse it again. A request that does not parse passes, and the
    /// schema explains what is wrong with it.
    fn refusal(&self, request: &mut Request) -> Option<Response> {
        if let Some(refusal) = text_refusal(request) {
            return Some(invalid_query(refusal));
        }
        let document = request.parsed_query().ok()?;
        let parts = document_parts(document);
        if parts > MAX_DOCUMENT_PARTS {
            return Some(invalid_query(format!(
                "the query holds {parts} fields, arguments, directives and variables (fragments \
                 counted where they are spread); at most {MAX_DOCUMENT_PARTS} are allowed"
            )));
        }
        let count = alias_count(document);
        if count <= self.max_aliases {
            return None;
        }
        Some(invalid_query(format!(
            "the request uses {count} aliases; at most {} are allowed",
            self.max_aliases
        )))
    }
}

/// Why `request`'s document is refused unread, if it is: too long, or nested too deep.
fn text_refusal(request: &Request) -> Option<String> {
    if request.query.len() > MAX_DOCUMENT_BYTES {
        return Some(format!(
            "the query is {} bytes long; at most {MAX_DOCUMENT_BYTES} are allowed",
            request.query.len()
        ));
    }
    too_deeply_nested(request).then(|| {
        format!(
            "the query is nested too deep: more than {MAX_NESTING} levels of braces, \
             brackets and parentheses"
        )
    })
}

fn invalid_query(message: String) -> Response {
    let error = async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", "VALIDATION");
        e.set("field", "query");
    });
    Response::from_errors(vec![error.into_server_error(Pos::default())])
}

/// How deeply a document may nest braces, brackets and parentheses. Its parser recurses once
/// per level: a few kilobytes of `[[[[…` (an argument's value, or a variable's default, which
/// is parsed even when its operation is not run) overflowed the stack of the release build at
/// about 1,700 levels and aborted the whole process. Selection sets are held to 16 levels by
/// validation anyway; no honest value nests a hundred deep.
pub const MAX_NESTING: usize = 128;

/// The type of the operation `request` runs, when its document is one the schema reads (within
/// [`MAX_DOCUMENT_BYTES`] and [`MAX_NESTING`]), parses and names one. The parsed document stays
/// on the request.
pub fn operation_type(request: &mut Request) -> Option<OperationType> {
    if text_refusal(request).is_some() {
        return None;
    }
    let operation_name = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    operation_named(document, operation_name.as_deref()).map(|operation| operation.node.ty)
}

/// The operation of `document` a request naming `name` runs: that one, or without a name the
/// only one there is.
pub(crate) fn operation_named<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match &document.operations {
        DocumentOperations::Single(operation) => Some(operation),
        DocumentOperations::Multiple(operations) => {
            name.and_then(|name| operations.get(name)).or_else(|| {
                let mut all = operations.values();
                all.next().filter(|_| all.next().is_none())
            })
        }
    }
}

/// Whether `request`'s document nests deeper than [`MAX_NESTING`]: checked on the text, before
/// anything parses it.
pub fn too_deeply_nested(request: &Request) -> bool {
    nesting_depth(&request.query) > MAX_NESTING
}

/// The deepest nesting of `{`, `[` and `(` in a GraphQL document, outside strings and comments.
fn nesting_depth(document: &str) -> usize {
    let bytes = document.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // A block string ends at the next unescaped `"""`.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    deepest
}

impl Executor for AppSchema {
    async fn execute(&self, mut request: Request) -> Response {
        if let Some(refusal) = self.refusal(&mut request) {
            return refusal;
        }
        // Kept to put the answer in the query's order (see `field_order`).
        let document = request.parsed_query().ok().cloned();
        let operation_name = request.operation_name.clone();
        let mut response = cap_errors(self.schema.execute(request).await);
        if let Some(document) = document {
            let data = std::mem::take(&mut response.data);
            response.data = in_query_order(&document, operation_name.as_deref(), data);
        }
        response
    }

    /// Runs a subscription (the websocket's only use of the schema). Queries and mutations are
    /// refused there: over HTTP each request is authenticated, rate-limited and checked again,
    /// while a socket authenticates once, when it opens.
    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let refusal = self.refusal(&mut request).or_else(|| {
            match operation_type(&mut request) {
                Some(OperationType::Query | OperationType::Mutation) => Some(invalid_query(
                    "only subscriptions run over the websocket; send queries and mutations to \
                     POST /graphql"
                        .to_owned(),
                )),
                // A subscription, or a document the schema will explain is wrong.
                _ => None,
            }
        });
        match refusal {
            Some(refusal) => stream::once(async move { refusal }).boxed(),
            // Engine errors (syntax, unknown fields, complexity) get their code here, as the
            // HTTP endpoint gives them theirs.
            None => self
                .schema
                .execute_stream_with_session_data(request, session_data.unwrap_or_default())
                .map(|response| tag_uncoded_errors(cap_errors(response)))
                .boxed(),
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

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        assert_eq!(nesting_depth("{ me { id } }"), 2);
        assert_eq!(
            nesting_depth("{ tags(after: [[[1]]]) { totalCount } }"),
            5,
            "braces, parentheses and brackets"
        );
        let deep = format!(
            "{{ tags(after: {}1{}) {{ id }} }}",
            "[".repeat(2000),
            "]".repeat(2000)
        );
        assert_eq!(nesting_depth(&deep), 2002);
        assert_eq!(
            nesting_depth(
                r#"{ a(s: "{{{[[[(((\"{{") # {{{{{{
            }"#
            ),
            2
        );
        assert_eq!(nesting_depth(r#"{ a(s: """ {{{ \""" [[[ """) }"#), 2);
        assert!(too_deeply_nested(&Request::new(deep)));
        assert!(!too_deeply_nested(&Request::new("{ me { id } }")));
    }
}
