//! How much of the subscription service one workspace may hold: open sockets per workspace,
//! and subscriptions per socket. Each socket keeps a task, a credential check every few
//! seconds and a feed of the workspace's activity alive; without a bound, one workspace's
//! script opening sockets in a loop holds them for everyone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// The limits, and the sockets open now (per process).
pub struct SocketLimits {
    /// Most sockets one workspace may hold open at once.
    pub connections_per_tenant: usize,
    /// Most subscriptions one socket may run at once.
    pub subscriptions_per_socket: usize,
    open: Mutex<HashMap<Uuid, usize>>,
}

impl SocketLimits {
    pub fn new(connections_per_tenant: usize, subscriptions_per_socket: usize) -> Self {
        Self {
            connections_per_tenant,
            subscriptions_per_socket,
            open: Mutex::default(),
        }
    }

    /// A place for one more socket of `owner` (a workspace, or a user without one), held until
    /// the slot is dropped; `None` when the owner holds all its places already.
    pub fn admit(self: &Arc<Self>, owner: Uuid) -> Option<SocketSlot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(owner).or_default();
        if *count >= self.connections_per_tenant {
            return None;
        }
        *count += 1;
        Some(SocketSlot {
            limits: self.clone(),
            owner,
        })
    }
}

/// One open socket's place in its owner's allowance, given back when the socket closes.
pub struct SocketSlot {
    limits: Arc<SocketLimits>,
    owner: Uuid,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self
            .limits
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.owner) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.owner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_holds_at_most_its_places_and_gets_them_back_on_close() {
        let limits = Arc::new(SocketLimits::new(2, 5));
        let (ours, theirs) = (Uuid::new_v4(), Uuid::new_v4());
        let first = limits.admit(ours).expect("a first place");
        let _second = limits.admit(ours).expect("a second place");
        assert!(limits.admit(ours).is_none(), "a third is refused");
        assert!(limits.admit(theirs).is_some(), "others keep theirs");
        drop(first);
        assert!(
            limits.admit(ours).is_some(),
            "a closed socket's place is free again"
        );
    }
}
