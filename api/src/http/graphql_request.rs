//! Reading GraphQL requests off HTTP (GraphQL over HTTP, "Request Parameters"): a `POST`
//! body holds one request as a JSON object, or a batch of them as an array (Apollo's
//! `BatchHttpLink`, at most [`MAX_BATCH`]); a `GET` holds one in its query string, `variables`
//! and `extensions` as JSON text. Anything else is refused with a message saying what is
//! wrong where, rather than what a generic deserialiser expected.

use async_graphql::{Request, Variables};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The most requests one batch may hold (Apollo's `BatchHttpLink` sends 10 at most by
/// default). Each counts against the caller's rate limit as a request of its own.
pub const MAX_BATCH: usize = 10;

/// What a `POST` body holds.
#[derive(Debug)]
pub enum Incoming {
    /// One request (a JSON object), boxed: a request is large beside a batch's vector.
    Single(Box<Request>),
    /// A batch (a JSON array of them), answered with an array in the same order.
    Batch(Vec<Request>),
}

/// A request's parameters as they were sent, checked for their types.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Parameters {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
    extensions: Option<Map<String, Value>>,
}

/// Reads a `POST` body.
pub fn from_body(body: &[u8]) -> Result<Incoming, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(format!(
            "the body is empty: send a GraphQL request as JSON, {EXAMPLE}"
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|err| format!("the body is not JSON ({err}): send {EXAMPLE}"))?;
    match value {
        Value::Object(object) => Ok(Incoming::Single(Box::new(from_object(object)?))),
        Value::Array(items) if items.is_empty() => {
            Err("the batch is empty: send at least one request in the array".to_owned())
        }
        Value::Array(items) if items.len() > MAX_BATCH => Err(format!(
            "the batch holds {} requests; at most {MAX_BATCH} are allowed in one",
            items.len()
        )),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::Object(object) => from_object(object)
                    .map_err(|err| format!("request {index} of the batch: {err}")),
                _ => Err(format!(
                    "request {index} of the batch is not a JSON object: each is {EXAMPLE}"
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Incoming::Batch),
        _ => Err(format!(
            "the body is JSON but not a GraphQL request: send {EXAMPLE}, or an array of up to \
             {MAX_BATCH} of them for a batch"
        )),
    }
}

/// Reads a `GET` query string (`?query=…&operationName=…&variables={…}&extensions={…}`).
pub fn from_query_string(query_string: &str) -> Result<Request, String> {
    let mut parameters = Map::new();
    for (name, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
        let value = match name.as_ref() {
            "query" | "operationName" => Value::String(value.into_owned()),
            "variables" | "extensions" if value.trim().is_empty() => Value::Null,
            "variables" | "extensions" => serde_json::from_str(&value).map_err(|err| {
                format!("the `{name}` parameter is not JSON ({err}): send an object, URL-encoded")
            })?,
            _ => continue,
        };
        // The first of a repeated parameter counts.
        parameters.entry(name.into_owned()).or_insert(value);
    }
    from_object(parameters)
}

/// How a request looks, for error messages.
const EXAMPLE: &str =
    r#"{"query": "…", "variables": {…}, "operationName": "…"} with Content-Type: application/json"#;

fn from_object(object: Map<String, Value>) -> Result<Request, String> {
    let parameters: Parameters = serde_json::from_value(Value::Object(object))
        .map_err(|err| format!("{err}, in {EXAMPLE}"))?;
    // A persisted query may be named by its hash alone (see `persisted_queries`).
    let persisted = parameters
        .extensions
        .as_ref()
        .is_some_and(|extensions| extensions.contains_key("persistedQuery"));
    let Some(query) = parameters.query.or_else(|| persisted.then(String::new)) else {
        return Err(format!("the request has no `query`: send {EXAMPLE}"));
    };
    let mut request = Request::new(query);
    if let Some(name) = parameters.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = parameters.variables {
        request = request.variables(Variables::from_json(Value::Object(variables)));
    }
    for (name, value) in parameters.extensions.unwrap_or_default() {
        let value = async_graphql::Value::from_json(value)
            .map_err(|err| format!("the extension `{name}` cannot be read: {err}"))?;
        request.extensions.insert(name, value);
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(body: &str) -> Result<Request, String> {
        match from_body(body.as_bytes())? {
            Incoming::Single(request) => Ok(*request),
            Incoming::Batch(_) => panic!("a batch from {body}"),
        }
    }

    #[test]
    fn a_request_is_read_with_its_parameters() {
        let request = single(
            r#"{"query": "query Q($a: Int) { me { id } }", "operationName": "Q",
                "variables": {"a": 1}, "extensions": {"some": "value"}}"#,
        )
        .unwrap();
        assert_eq!(request.operation_name.as_deref(), Some("Q"));
        assert_eq!(request.variables.into_value().to_string(), "{a: 1}");
        assert!(request.extensions.contains_key("some"));
        for nulls in [
            r#"{"query": "{ me { id } }", "variables": null}"#,
            r#"{"query": "{ me { id } }", "operationName": null}"#,
            r#"{"query": "{ me { id } }", "extensions": null}"#,
        ] {
            assert!(single(nulls).is_ok(), "{nulls}");
        }
    }

    #[test]
    fn malformed_requests_say_what_is_wrong() {
        for (body, says) in [
            ("", "the body is empty"),
            (r#"{ "not a JSON"#, "not JSON"),
            ("42", "not a GraphQL request"),
            (r#"{"qeury": "{ me { id } }"}"#, "no `query`"),
            (r#"{"query": 0}"#, "invalid type"),
            (
                r#"{"query": "{ a }", "variables": "string"}"#,
                "invalid type",
            ),
            (
                r#"{"query": "{ a }", "variables": ["array"]}"#,
                "invalid type",
            ),
            (
                r#"{"query": "{ a }", "operationName": false}"#,
                "invalid type",
            ),
            (r#"{"query": "{ a }", "extensions": 0}"#, "invalid type"),
            ("[]", "the batch is empty"),
            (r#"[{"query": "{ a }"}, 1]"#, "request 1 of the batch"),
        ] {
            let err = from_body(body.as_bytes()).expect_err(body);
            assert!(err.contains(says), "{body}: {err}");
            assert!(!err.contains("invalid type: map"), "{body}: {err}");
        }
    }

    #[test]
    fn batches_are_read_up_to_the_limit() {
        let batch = |n: usize| format!("[{}]", vec![r#"{"query": "{ a }"}"#; n].join(","));
        match from_body(batch(MAX_BATCH).as_bytes()).unwrap() {
            Incoming::Batch(requests) => assert_eq!(requests.len(), MAX_BATCH),
            Incoming::Single(_) => panic!("not a batch"),
        }
        let err = from_body(batch(MAX_BATCH + 1).as_bytes()).unwrap_err();
        assert!(err.contains("at most 10"), "{err}");
    }

    #[test]
    fn get_requests_carry_json_variables() {
        let request = from_query_string(
            "query=query%20T(%24name%3A%20String!)%20%7B%20__type(name%3A%20%24name)%20%7B%20name%20%7D%20%7D\
             &variables=%7B%22name%22%3A%22Query%22%7D&operationName=T",
        )
        .unwrap();
        assert_eq!(request.operation_name.as_deref(), Some("T"));
        assert!(request.query.contains("__type"));
        assert_eq!(
            request.variables.into_value().to_string(),
            "{name: \"Query\"}"
        );
        assert!(
            from_query_string("variables=%7B%7D")
                .unwrap_err()
                .contains("no `query`")
        );
        assert!(
            from_query_string("query=%7Ba%7D&variables=nope")
                .unwrap_err()
                .contains("not JSON")
        );
    }
}
