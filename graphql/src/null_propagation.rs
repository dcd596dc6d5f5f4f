//! The spec's null propagation at the root. A failed field is `null` in `data`; when that field
//! is non-null, the null propagates to its parent, and the root fields' parent is `data`
//! ("Handling Field Errors"). async-graphql instead leaves a failed root field's key out of
//! `data`, so a client's generated types, which say the key is always there, crash reading it.
//! This puts it right for every operation, queries and mutations alike, whatever the aliases:
//! a failed nullable root field (the single lookups: `page(id:)`, `tag(id:)`, ...) is a `null`
//! beside the others; a failed non-null one (`me`, connections, mutation payloads) makes all of
//! `data` null.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{Name, PathSegment, Response, ServerResult, Value, Variables};

/// The extension's factory, installed on the schema; one extension per request.
pub(crate) struct RootNullPropagation;

impl ExtensionFactory for RootNullPropagation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest::default())
    }
}

/// Remembers the request's document, to read its root fields after execution.
#[derive(Default)]
struct PerRequest {
    document: Mutex<Option<ExecutableDocument>>,
}

#[async_trait::async_trait]
impl Extension for PerRequest {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Ok(mut kept) = self.document.lock() {
            *kept = Some(document.clone());
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let document = self.document.lock().ok().and_then(|mut d| d.take());
        if let Some(document) = document {
            let nullable = root_fields(&document, operation_name, &ctx.schema_env.registry);
            propagate(&mut response, &nullable);
        }
        response
    }
}

/// Each response key at the root of the operation, in the document's order, and whether its
/// field is nullable.
fn root_fields(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    registry: &Registry,
) -> Vec<(Name, bool)> {
    let operation = document.operations.iter().find(|(name, _)| {
        operation_name.is_none_or(|wanted| name.is_some_and(|n| n.as_str() == wanted))
    });
    let Some((_, operation)) = operation else {
        return Vec::new();
    };
    let root_type = match operation.node.ty {
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => None,
    };
    let Some(root) = root_type.and_then(|name| registry.types.get(name)) else {
        return Vec::new();
    };
    let mut keys: Vec<(Name, bool)> = Vec::new();
    collect(
        document,
        &operation.node.selection_set.node,
        &mut |alias, field| {
            // An unknown field fails validation before execution; `__typename` is never null.
            let nullable = root
                .field_by_name(field)
                .is_none_or(|meta| !meta.ty.ends_with('!'));
            if !keys.iter().any(|(key, _)| *key == alias) {
                keys.push((alias, nullable));
            }
        },
    );
    keys
}

/// Visits the root's fields through fragments.
fn collect(document: &ExecutableDocument, set: &SelectionSet, visit: &mut dyn FnMut(Name, &str)) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                let key = field.alias.as_ref().unwrap_or(&field.name).node.clone();
                visit(key, field.name.node.as_str());
            }
            Selection::InlineFragment(fragment) => {
                collect(document, &fragment.node.selection_set.node, visit);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    collect(document, &fragment.node.selection_set.node, visit);
                }
            }
        }
    }
}

/// Puts each failed root field back as `null` in its place, or nulls `data` when one of them
/// is non-null.
fn propagate(response: &mut Response, root: &[(Name, bool)]) {
    let Value::Object(data) = &mut response.data else {
        return;
    };
    let failed: Vec<Name> = response
        .errors
        .iter()
        .filter_map(|error| match error.path.first() {
            Some(PathSegment::Field(key)) => Some(Name::new(key)),
            _ => None,
        })
        .filter(|key| !data.contains_key(key))
        .collect();
    if failed.is_empty() {
        return;
    }
    let nullable = |key: &Name| root.iter().any(|(k, nullable)| k == key && *nullable);
    if !failed.iter().all(nullable) {
        response.data = Value::Null;
        return;
    }
    // Rebuilt in the document's order, so that the answer keeps the query's field order.
    let mut answered = std::mem::take(data);
    for (key, _) in root {
        if let Some(value) = answered.shift_remove(key) {
            data.insert(key.clone(), value);
        } else if failed.contains(key) {
            data.insert(key.clone(), Value::Null);
        }
    }
    data.extend(answered);
}
