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

/// The most errors one answer carries. A document's every bad part is an error of its own
/// (100,000 unknown arguments answered 17 MB of them); what is left out is counted in a last
/// error, so clients still see that there were more.
pub const MAX_ERRORS: usize = 100;

/// `response` with at most [`MAX_ERRORS`] errors: the first ones, then one saying how many
/// were left out (`extensions.leftOut`), coded as the first of those.
pub fn cap_errors(mut response: Response) -> Response {
    if response.errors.len() <= MAX_ERRORS {
        return response;
    }
    let left_out = response.errors.split_off(MAX_ERRORS - 1);
    let code = left_out[0]
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("code"))
        .cloned();
    let message = format!("{} more errors, left out", left_out.len());
    let mut summary = async_graphql::ServerError::new(message, None);
    let extensions = summary.extensions.get_or_insert_with(Default::default);
    if let Some(code) = code {
        extensions.set("code", code);
    }
    extensions.set("leftOut", Value::from(left_out.len()));
    response.errors.push(summary);
    response
}

/// Errors raised by the GraphQL engine itself (syntax, unknown fields, wrong variable types,
/// unknown enum values, depth and complexity limits) carry no code; they are all faults in the
/// request document, so they are tagged `VALIDATION`, with the argument at fault as `field`
/// when the engine names one.
pub fn tag_uncoded_errors(mut response: Response) -> Response {
    for error in &mut response.errors {
        if let Some(short) = syntax_error_in_brief(&error.message) {
            error.message = short;
        }
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

/// A syntax error said without its drawing. The parser renders the offending line with a caret
/// under it (`--> 1:516`, the line, `^---`, `= expected …`): the whole line back, twice its
/// length with the caret's padding, 100 KB for a 50 KB one-line query. The error's `locations`
/// already say where; the message keeps what was expected.
fn syntax_error_in_brief(message: &str) -> Option<String> {
    if !message.trim_start().starts_with("--> ") {
        return None;
    }
    let expected = message
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("= "))
        .unwrap_or("the query could not be read");
    Some(format!("syntax error: {expected}"))
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
    use super::{MAX_ERRORS, argument_named_in, cap_errors, syntax_error_in_brief};
    use async_graphql::{Response, ServerError};

    #[test]
    fn an_answer_carries_at_most_a_hundred_errors_and_says_how_many_it_left_out() {
        let errors = |n: usize| {
            (0..n)
                .map(|i| ServerError::new(format!("error {i}"), None))
                .collect::<Vec<_>>()
        };
        let kept = cap_errors(Response::from_errors(errors(MAX_ERRORS)));
        assert_eq!(kept.errors.len(), MAX_ERRORS, "up to the cap, all kept");
        let capped = cap_errors(Response::from_errors(errors(100_000)));
        assert_eq!(capped.errors.len(), MAX_ERRORS);
        assert_eq!(capped.errors[MAX_ERRORS - 2].message, "error 98");
        let last = &capped.errors[MAX_ERRORS - 1];
        assert_eq!(last.message, "99901 more errors, left out");
        assert_eq!(
            last.extensions.as_ref().and_then(|e| e.get("leftOut")),
            Some(&async_graphql::Value::from(99_901))
        );
    }

    #[test]
    fn syntax_errors_say_what_was_expected_without_the_line() {
        let long_line = format!("{{ tenant {{ id {} ) }}", "x".repeat(50_000));
        let drawn = format!(
            " --> 1:50016\n  |\n1 | {long_line}\n  | {}^---\n  |\n  = expected selection_set, selection, directive, or arguments",
            " ".repeat(50_015)
        );
        assert_eq!(
            syntax_error_in_brief(&drawn).as_deref(),
            Some("syntax error: expected selection_set, selection, directive, or arguments")
        );
        assert_eq!(
            syntax_error_in_brief("Unknown field \"idd\" on type \"Tenant\"."),
            None,
            "other engine messages are kept as they are"
        );
    }

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
