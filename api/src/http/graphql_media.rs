//! What a `/graphql` client asks for in `Accept` (GraphQL over HTTP, "Accept" and "Media
//! Types"): `application/graphql-response+json`, whose status code tells a request error
//! (4xx, no `data`) from an executed one; `application/json`, the older type, always 200 for a
//! GraphQL answer; or, on `GET`, GraphiQL's page for a browser asking for HTML.
//!
//! The highest `q` wins; between equal ones, the range written first; a range names a type
//! exactly, by its kind (`application/*`) or as `*/*`, and the most exact range naming a type
//! gives it its `q` (`application/json;q=0, */*` refuses JSON). `*/*` alone, and no `Accept`
//! at all, get `application/json`, as the specification says for clients that predate the
//! newer type.

use actix_web::http::header::{self, HeaderMap};

/// `application/graphql-response+json`.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// How a GraphQL answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerType {
    /// `application/graphql-response+json`: a request error (it does not parse or validate,
    /// its variables do not coerce) is a 400 without `data`.
    GraphqlResponse,
    /// `application/json`: 200 for any GraphQL answer, errors in `errors`.
    Json,
}

impl AnswerType {
    /// The `Content-Type` of the answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// What the client is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// A GraphQL answer, of this type.
    Graphql(AnswerType),
    /// GraphiQL's page (a browser asking for HTML, where it is offered).
    Html,
    /// Nothing the service writes: 406.
    Nothing,
}

/// What `headers` ask for; `html` when GraphiQL's page is on offer (`GET`, GraphiQL on).
pub fn wanted(headers: &HeaderMap, html: bool) -> Wanted {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|range| !range.is_empty())
        .collect();
    if accept.is_empty() {
        return Wanted::Graphql(AnswerType::Json);
    }
    let ranges: Vec<Range<'_>> = accept
        .iter()
        .filter_map(|text| Range::parse(text))
        .collect();
    // In order of preference between equals (`*/*` alone: JSON).
    let mut candidates = vec![
        (("application", "json"), Wanted::Graphql(AnswerType::Json)),
        (
            ("application", "graphql-response+json"),
            Wanted::Graphql(AnswerType::GraphqlResponse),
        ),
    ];
    if html {
        candidates.push((("text", "html"), Wanted::Html));
    }
    candidates
        .into_iter()
        .filter_map(|((kind, subtype), wanted)| {
            let (position, q) = best_match(&ranges, kind, subtype)?;
            (q > 0).then_some((q, position, wanted))
        })
        // Highest q, then the range written first, then the order above.
        .fold(None::<(u16, usize, Wanted)>, |best, next| match best {
            Some(best)
                if (best.0, std::cmp::Reverse(best.1)) >= (next.0, std::cmp::Reverse(next.1)) =>
            {
                Some(best)
            }
            _ => Some(next),
        })
        .map_or(Wanted::Nothing, |(_, _, wanted)| wanted)
}

/// One media range of `Accept`, its `q` in thousandths.
struct Range<'a> {
    kind: &'a str,
    subtype: &'a str,
    q: u16,
}

impl<'a> Range<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.split(';').map(str::trim);
        let (kind, subtype) = parts.next()?.split_once('/')?;
        let q = parts
            .filter_map(|parameter| parameter.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1000), |(_, value)| thousandths(value.trim()))?;
        Some(Self {
            kind: kind.trim(),
            subtype: subtype.trim(),
            q,
        })
    }

    /// How exactly this range names `kind/subtype`: 2 exactly, 1 by kind, 0 as `*/*`.
    fn names(&self, kind: &str, subtype: &str) -> Option<u8> {
        match (self.kind, self.subtype) {
            ("*", "*") => Some(0),
            (k, "*") if k.eq_ignore_ascii_case(kind) => Some(1),
            (k, s) if k.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(subtype) => Some(2),
            _ => None,
        }
    }
}

/// A `q` value (`0` … `1`, up to three decimals) in thousandths.
fn thousandths(value: &str) -> Option<u16> {
    let q: f32 = value.parse().ok()?;
    (0.0..=1.0)
        .contains(&q)
        .then(|| (q * 1000.0).round() as u16)
}

/// The `q` of the most exact range naming `kind/subtype`, and where that range is written.
fn best_match(ranges: &[Range<'_>], kind: &str, subtype: &str) -> Option<(usize, u16)> {
    ranges
        .iter()
        .enumerate()
        .filter_map(|(position, range)| {
            range
                .names(kind, subtype)
                .map(|exactness| (exactness, position, range.q))
        })
        // The most exact; between equally exact ranges, the first.
        .fold(None::<(u8, usize, u16)>, |best, next| match best {
            Some(best) if best.0 >= next.0 => Some(best),
            _ => Some(next),
        })
        .map(|(_, position, q)| (position, q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn accept(value: Option<&str>, html: bool) -> Wanted {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        wanted(&headers, html)
    }

    const GRAPHQL: Wanted = Wanted::Graphql(AnswerType::GraphqlResponse);
    const JSON: Wanted = Wanted::Graphql(AnswerType::Json);

    #[test]
    fn clients_get_the_type_they_prefer() {
        for (header, expected) in [
            (None, JSON),
            (Some("*/*"), JSON),
            (Some("application/*"), JSON),
            (Some("application/json"), JSON),
            (Some(GRAPHQL_RESPONSE_JSON), GRAPHQL),
            // Apollo Client, graphql-http's client, urql.
            (
                Some("application/graphql-response+json,application/json;q=0.9"),
                GRAPHQL,
            ),
            (
                Some("application/graphql-response+json, application/json"),
                GRAPHQL,
            ),
            (
                Some("application/json, application/graphql-response+json"),
                JSON,
            ),
            (
                Some("application/json;q=0.5, application/graphql-response+json;q=0.8"),
                GRAPHQL,
            ),
            (Some("application/json;q=0, */*"), GRAPHQL),
            (Some("text/plain"), Wanted::Nothing),
            (Some("application/json;q=0"), Wanted::Nothing),
        ] {
            assert_eq!(accept(header, false), expected, "Accept: {header:?}");
        }
    }

    #[test]
    fn only_a_browser_asking_for_html_gets_graphiql() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                       image/webp,*/*;q=0.8";
        assert_eq!(accept(Some(browser), true), Wanted::Html);
        assert_eq!(accept(Some(browser), false), JSON, "GraphiQL off");
        assert_eq!(accept(Some("*/*"), true), JSON);
        assert_eq!(accept(None, true), JSON);
        assert_eq!(accept(Some("application/json"), true), JSON);
        assert_eq!(accept(Some("text/html"), false), Wanted::Nothing);
    }
}
