//! Roles inside a tenant, ordered from most to least powerful.

use std::fmt;
use std::str::FromStr;

/// What a member (or API key) may do in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, including granting ownership. A tenant always keeps at least one.
    Owner,
    /// Manages members, API keys and secrets.
    Admin,
    /// Creates and changes the tenant's catalogue and flows.
    Editor,
    /// Reads only.
    Viewer,
}

impl Role {
    fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Editor => 1,
            Role::Viewer => 0,
        }
    }

    /// Whether this role includes everything `other` may do.
    pub fn at_least(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }

    /// The lower of this role and `other`.
    pub fn lesser(self, other: Role) -> Role {
        if self.at_least(other) { other } else { self }
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Owner.at_least(Role::Admin));
        assert!(Role::Admin.at_least(Role::Editor));
        assert!(Role::Editor.at_least(Role::Viewer));
        assert!(!Role::Viewer.at_least(Role::Editor));
        assert!(Role::Editor.at_least(Role::Editor));
    }

    #[test]
    fn stored_spelling_round_trips() {
        for role in [Role::Owner, Role::Admin, Role::Editor, Role::Viewer] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
    }
}
