//! The one mapping from domain errors to GraphQL errors: a stable `extensions.code`, the input
//! `field` for validation errors, and never an internal cause (those go to the log).

use async_graphql::{Error, ErrorExtensions, Response, Value};
use refhub_domain::{DomainError, DomainResult, ErrorCode};

/// Renders a domain error for clients.
pub(crate) fn to_graphql(err: &DomainError) -> Error {
    match err {
        DomainError::Internal(source) => {
            tracing::error!(error = %source, debug = ?source, "internal error");
        }
        DomainError::Unavailable(source) => {
            tracing::warn!(error = %source, "the database is out of reach");
        }
        _ => {}
    }
    Error::new(err.to_string()).extend_with(|_, ext| {
        ext.set("code", err.code().as_str());
        if let Some(field) = err.field() {
            ext.set("field", field);
        }
        match err {
            DomainError::Forbidden(reason) => ext.set("reason", reason.as_str()),
            DomainError::RateLimited { retry_after_secs } => {
                ext.set("retryAfter", *retry_after_secs)
            }
            _ => {}
        }
    })
}

/// A whole response refusing the request (e.g. over its rate limit), coded like any error.
pub fn refusal_response(err: &DomainError) -> Response {
    let error = to_graphql(err).into_server_error(async_graphql::Pos::default());
    let mut error = error;
    error.locations.clear();
    Response::from_errors(vec![error])
}

/// `.gql()` turns a domain result into a resolver result.
pub(crate) trait IntoGraphql<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> IntoGraphql<T> for DomainResult<T> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|err| to_graphql(&err))
    }
}

/// Errors raised by the GraphQL engine itself (syntax, unknown fields, wrong variable types,
/// unknown enum values, depth and complexity limits) carry no code; they are all faults in the
/// request document, so they are tagged `VALIDATION`, with the argument at fault as `field`
/// when the engine names one.
pub fn tag_uncoded_errors(mut response: Response) -> Response {
    for error in &mut response.errors {
        let field = argument_named_in(&error.message);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", Value::from(ErrorCode::Validation.as_str()));
            if let Some(field) = field {
                extensions.set("field", Value::from(field));
            }
        }
    }
    response
}

/// The argument an engine message blames (`Invalid value for argument "input.type", …`), as
/// the client named it inside the input (`type`).
fn argument_named_in(message: &str) -> Option<String> {
    let rest = message.split_once("argument \"")?.1;
    let path = rest.split_once('"')?.0;
    let field = path.strip_prefix("input.").unwrap_or(path);
    (!field.is_empty()).then(|| field.to_owned())
}

#[cfg(test)]
mod tests {
    use super::argument_named_in;

    #[test]
    fn engine_messages_name_their_argument() {
        assert_eq!(
            argument_named_in(
                "Invalid value for argument \"input.type\", enumeration type \"CustomFieldType\" does not contain the value \"COLOR\""
            )
            .as_deref(),
            Some("type")
        );
        assert_eq!(
            argument_named_in("Invalid value for argument \"cadence\", …").as_deref(),
            Some("cadence")
        );
        assert_eq!(
            argument_named_in("Unknown field \"nope\" on type \"Query\"."),
            None
        );
    }
}
