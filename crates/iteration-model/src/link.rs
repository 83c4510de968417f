//! Links between resources (`_links`).

use std::collections::BTreeMap;

use crate::wire::representation;

representation! {
    /// The location and content type of a related resource (`Link`).
    pub struct Link {
        /// The resource's path, such as `/api/v2/flags/my-project/my-flag`.
        opt href: String = "href",
        /// The content type, `application/json`.
        opt r#type: String = "type",
    }
}

/// A resource's `_links`: relation name (`self`, `parent`, ...) to link.
pub type Links = BTreeMap<String, Link>;

impl Link {
    /// A JSON link to `href`.
    pub fn json(href: impl Into<String>) -> Link {
        Link {
            href: Some(href.into()),
            r#type: Some("application/json".to_owned()),
            extra: Default::default(),
        }
    }
}

/// Builds `_links` from `(relation, href)` pairs of JSON links.
pub fn links<const N: usize>(pairs: [(&str, String); N]) -> Links {
    // Inserting one by one: collecting would sort through a temporary
    // vector, which for the one or two links of a representation costs more
    // than the map itself.
    let mut links = Links::new();
    for (rel, href) in pairs {
        links.insert(rel.to_owned(), Link::json(href));
    }
    links
}
