//! The request limits applied at the edge: per tenant (or, before sign-in, per address) on
//! `/graphql`, and per webhook key on Meta's deliveries (generous: Meta must never be refused
//! in normal use; a flood must not take the service down for everyone else).

use std::net::IpAddr;

use refhub_domain::ids::TenantId;

use super::client_address::rate_limit_key;
use crate::security::KeyedThrottle;

/// Who a `/graphql` request counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A signed-in member or API key: their workspace.
    Tenant(TenantId),
    /// Anyone else: their address (IPv6: their /64).
    Address(IpAddr),
}

impl Caller {
    /// A caller known only by address, keyed as rate limits key addresses.
    pub fn address(address: IpAddr) -> Self {
        Self::Address(rate_limit_key(address))
    }
}

/// The limiters of the HTTP surface.
pub struct RequestThrottles {
    /// `/graphql` requests.
    pub graphql: KeyedThrottle<Caller>,
    /// Webhook deliveries, by the tenant whose key they present (the real key only).
    pub webhooks: KeyedThrottle<TenantId>,
    /// Deliveries to keys that are not a tenant's (unknown or forged), by client address.
    pub webhook_misses: KeyedThrottle<IpAddr>,
}

impl RequestThrottles {
    /// `graphql_per_second` per tenant or address (bursts of four times that), and
    /// `webhooks_per_second` per webhook key (bursts of as many), and `misses_per_minute`
    /// deliveries to keys that match no tenant per client address.
    pub fn new(graphql_per_second: u32, webhooks_per_second: u32, misses_per_minute: u32) -> Self {
        Self {
            graphql: KeyedThrottle::per_second(
                graphql_per_second,
                graphql_per_second.saturating_mul(4),
            ),
            webhooks: KeyedThrottle::per_second(webhooks_per_second, webhooks_per_second),
            webhook_misses: KeyedThrottle::per_minute(misses_per_minute),
        }
    }
}
