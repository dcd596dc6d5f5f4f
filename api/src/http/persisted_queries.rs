//! Automatic persisted queries, as Apollo Client's `PersistedQueryLink` speaks them: a request
//! may name its query by `extensions.persistedQuery = {version: 1, sha256Hash}` and leave
//! `query` out. A hash this replica has seen stands for its query; an unknown one is answered
//! `PersistedQueryNotFound` (code `PERSISTED_QUERY_NOT_FOUND`), and the client sends the query
//! with its hash once, which registers it. A hash is stored only for the query whose SHA-256 it
//! is, so no one can make a hash stand for another query.
//!
//! The store is per replica, bounded by the bytes of the queries it holds (moka's TinyLFU keeps
//! the ones in use): a replica that has not seen a hash costs the client one round trip more.
//! The query is then executed exactly as if it had been sent in full: every limit, the GET
//! rule (queries only) and the caches see the same text.

use async_graphql::Request;
use sha2::{Digest, Sha256};

/// How many bytes of query text one replica keeps.
const MAX_BYTES: u64 = 32 * 1024 * 1024;

/// The extension's name in `extensions`.
const EXTENSION: &str = "persistedQuery";

/// Why a persisted query cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersistedQueryError {
    /// The hash is unknown here: send the query with it (Apollo does so by itself).
    NotFound,
    /// The extension is malformed, of another version, or its hash is not the query's.
    Invalid(String),
}

impl PersistedQueryError {
    /// The message and `extensions.code` Apollo's link reads.
    pub fn message_and_code(&self) -> (String, &'static str) {
        match self {
            Self::NotFound => (
                "PersistedQueryNotFound".to_owned(),
                "PERSISTED_QUERY_NOT_FOUND",
            ),
            Self::Invalid(why) => (why.clone(), "PERSISTED_QUERY_INVALID"),
        }
    }
}

/// The replica's persisted queries.
pub struct PersistedQueries {
    queries: moka::sync::Cache<String, String>,
}

impl Default for PersistedQueries {
    fn default() -> Self {
        Self {
            queries: moka::sync::Cache::builder()
                .weigher(|hash: &String, query: &String| {
                    u32::try_from(hash.len() + query.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(MAX_BYTES)
                .build(),
        }
    }
}

impl PersistedQueries {
    /// Fills in the query of a request that names one by hash, or registers the query a
    /// request sends with its hash. A request without the extension is left as it is.
    pub fn resolve(&self, request: &mut Request) -> Result<(), PersistedQueryError> {
        let Some(extension) = request.extensions.get(EXTENSION) else {
            return Ok(());
        };
        let hash = persisted_hash(&extension.clone().into_json().unwrap_or_default())?;
        if request.query.is_empty() {
            let query = self
                .queries
                .get(&hash)
                .ok_or(PersistedQueryError::NotFound)?;
            request.query = query;
            return Ok(());
        }
        let actual = format!("{:x}", Sha256::digest(request.query.as_bytes()));
        if actual != hash {
            return Err(PersistedQueryError::Invalid(
                "the persisted query's sha256Hash is not the SHA-256 of its query".to_owned(),
            ));
        }
        self.queries.insert(hash, request.query.clone());
        Ok(())
    }
}

/// The hash in `{"version": 1, "sha256Hash": "<64 lowercase hex digits>"}`.
fn persisted_hash(extension: &serde_json::Value) -> Result<String, PersistedQueryError> {
    let invalid =
        |why: &str| PersistedQueryError::Invalid(format!("extensions.persistedQuery {why}"));
    if extension["version"] != 1 {
        return Err(invalid("must have version 1"));
    }
    let hash = extension["sha256Hash"]
        .as_str()
        .ok_or_else(|| invalid("must have a sha256Hash"))?;
    if hash.len() != 64
        || !hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(invalid(
            "sha256Hash must be 64 lowercase hexadecimal digits",
        ));
    }
    Ok(hash.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        request.extensions.insert(
            EXTENSION.to_owned(),
            async_graphql::Value::from_json(
                serde_json::json!({ "version": 1, "sha256Hash": hash }),
            )
            .unwrap(),
        );
        request
    }

    #[test]
    fn a_hash_stands_for_its_query_once_registered() {
        let store = PersistedQueries::default();
        let query = "{ me { id } }";
        let hash = format!("{:x}", Sha256::digest(query.as_bytes()));
        assert_eq!(
            store.resolve(&mut request("", &hash)),
            Err(PersistedQueryError::NotFound)
        );
        store.resolve(&mut request(query, &hash)).unwrap();
        let mut by_hash = request("", &hash);
        store.resolve(&mut by_hash).unwrap();
        assert_eq!(by_hash.query, query);
    }

    #[test]
    fn a_hash_cannot_stand_for_another_query() {
        let store = PersistedQueries::default();
        let hash = format!("{:x}", Sha256::digest(b"{ me { id } }"));
        assert!(matches!(
            store.resolve(&mut request(
                "mutation { logOut { revokedSessions } }",
                &hash
            )),
            Err(PersistedQueryError::Invalid(_))
        ));
        assert_eq!(
            store.resolve(&mut request("", &hash)),
            Err(PersistedQueryError::NotFound)
        );
        assert!(matches!(
            store.resolve(&mut request("", "ABC")),
            Err(PersistedQueryError::Invalid(_))
        ));
    }
}
