//! What the caller's token may do with a resource (`_access`), as
//! LaunchDarkly's representations report it.

use crate::wire::representation;

representation! {
    /// The actions the caller may and may not take on a resource (`Access`).
    pub struct Access {
        /// Actions denied, each with the policy statement that denies it.
        req denied: Vec<AccessDenied> = "denied",
        /// Actions allowed, each with the policy statement that allows it.
        req allowed: Vec<AccessAllowedRep> = "allowed",
    }
}

representation! {
    /// A denied action (`AccessDenied`).
    pub struct AccessDenied {
        /// The action, such as `updateName`.
        req action: String = "action",
        /// The statement that denies it.
        req reason: AccessReason = "reason",
    }
}

representation! {
    /// An allowed action (`AccessAllowedRep`).
    pub struct AccessAllowedRep {
        /// The action, such as `updateName`.
        req action: String = "action",
        /// The statement that allows it.
        req reason: AccessReason = "reason",
    }
}

representation! {
    /// A policy statement that allows or denies an action
    /// (`AccessAllowedReason` and `AccessDeniedReason`, which have one shape).
    pub struct AccessReason {
        /// Resource specifiers the statement covers.
        opt resources: Vec<String> = "resources",
        /// Resource specifiers the statement covers by exclusion.
        opt not_resources: Vec<String> = "notResources",
        /// Actions the statement covers.
        opt actions: Vec<String> = "actions",
        /// Actions the statement covers by exclusion.
        opt not_actions: Vec<String> = "notActions",
        /// `allow` or `deny`.
        req effect: String = "effect",
        /// The role that holds the statement.
        opt role_name: String = "role_name",
    }
}
