//! The request limits applied at the edge: on `/graphql` and the REST routes, per member (or
//! API key) within a ceiling per workspace (or, before sign-in, per address); and per webhook
//! key on Meta's deliveries (generous: Meta must never be refused in normal use; a flood must
//! not take the service down for everyone else).

use std::net::IpAddr;
use std::time::Duration;

use refhub_domain::identity::{Actor, Principal};
use refhub_domain::ids::{ApiKeyId, TenantId, UserId};

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

/// One member's (or key's) own allowance within their workspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Member {
    /// A signed-in user, in one workspace (all their sessions and tabs together).
    User(TenantId, UserId),
    /// An API key (it belongs to one workspace).
    ApiKey(ApiKeyId),
}

/// The API's request allowances.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// A workspace's ceiling (and, signed out, an address's), per second; bursts of 4×.
    pub per_workspace_per_second: u32,
    /// Each member's or key's share of it, per second; bursts of 4×.
    pub per_member_per_second: u32,
}

/// The limiters of the HTTP surface.
pub struct RequestThrottles {
    /// API requests, per workspace (or address): the ceiling.
    pub graphql: KeyedThrottle<Caller>,
    /// API requests, per member or key, within the ceiling.
    pub members: KeyedThrottle<Member>,
    /// Webhook deliveries, by the tenant whose key they present (the real key only).
    pub webhooks: KeyedThrottle<TenantId>,
    /// Deliveries to keys that are not a tenant's (unknown or forged), by client address.
    pub webhook_misses: KeyedThrottle<IpAddr>,
}

impl RequestThrottles {
    /// The API's `limits`, `webhooks_per_second` per webhook key (bursts of as many), and
    /// `misses_per_minute` deliveries to keys that match no tenant per client address.
    pub fn new(limits: RequestLimits, webhooks_per_second: u32, misses_per_minute: u32) -> Self {
        let per_workspace = limits.per_workspace_per_second;
        let per_member = limits.per_member_per_second;
        Self {
            graphql: KeyedThrottle::per_second(per_workspace, per_workspace.saturating_mul(4)),
            members: KeyedThrottle::per_second(per_member, per_member.saturating_mul(4)),
            webhooks: KeyedThrottle::per_second(webhooks_per_second, webhooks_per_second),
            webhook_misses: KeyedThrottle::per_minute(misses_per_minute),
        }
    }
}

impl RequestThrottles {
    /// Admits one API request, or says how long to wait: a signed-in caller takes from their
    /// own allowance, then from their workspace's ceiling; anyone else from their address's.
    /// A member over their own allowance is refused before touching the ceiling, so they
    /// cannot drain it for the others.
    pub fn admit(
        &self,
        principal: Option<&Principal>,
        client: Option<IpAddr>,
    ) -> Result<(), Duration> {
        let tenant = principal.and_then(|p| p.tenant);
        if let (Some(principal), Some(tenant)) = (principal, tenant) {
            let member = match principal.actor {
                Actor::User { user_id, .. } => Member::User(tenant.tenant_id, user_id),
                Actor::ApiKey { key_id } => Member::ApiKey(key_id),
            };
            self.members.check(&member)?;
            return self.graphql.check(&Caller::Tenant(tenant.tenant_id));
        }
        match client {
            Some(address) => self.graphql.check(&Caller::address(address)),
            None => Ok(()),
        }
    }
}
