//! Links between resources (`_links`).
//!
//! Every new iteration carries about ten `_links`. Their relation names and
//! content type are the same few strings each time, held as static
//! [`Text`]s, so that building a link allocates only its `href`.

use std::collections::BTreeMap;

use crate::text::Text;
use crate::wire::representation;

/// The content type of every link the model builds.
const APPLICATION_JSON: Text = Text::from_static("application/json");

/// The relation names the API uses, shared rather than allocated when a
/// link is read or built.
const RELATIONS: [Text; 7] = [
    Text::from_static("self"),
    Text::from_static("parent"),
    Text::from_static("first"),
    Text::from_static("last"),
    Text::from_static("next"),
    Text::from_static("prev"),
    Text::from_static("filter"),
];

/// `name` as a relation: a static text when it is one the API uses.
fn relation(name: &str) -> Text {
    RELATIONS.iter().find(|known| known.as_str() == name).cloned().unwrap_or_else(|| Text::from(name))
}

representation! {
    /// The location and content type of a related resource (`Link`).
    pub struct Link {
        /// The resource's path, such as `/api/v2/flags/my-project/my-flag`.
        opt href: Text = "href",
        /// The content type, `application/json`.
        opt r#type: Text = "type",
    }
}

/// A resource's `_links`: relation name (`self`, `parent`, ...) to link,
/// ordered by name, each name once.
///
/// A map in JSON. Representations carry one to five links, and every new
/// iteration builds about ten of these, so they live in one small vector
/// rather than a B-tree, whose first node alone takes about 1 KiB.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Links(Vec<(Text, Link)>);

impl Links {
    /// No links.
    pub fn new() -> Links {
        Links(Vec::new())
    }

    fn position(&self, rel: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(name, _)| name.as_str().cmp(rel))
    }

    /// The link named `rel`.
    pub fn get(&self, rel: &str) -> Option<&Link> {
        self.position(rel).ok().map(|at| &self.0[at].1)
    }

    /// The link named `rel`, to change it.
    pub fn get_mut(&mut self, rel: &str) -> Option<&mut Link> {
        self.position(rel).ok().map(|at| &mut self.0[at].1)
    }

    /// Whether there is a link named `rel`.
    pub fn contains_key(&self, rel: &str) -> bool {
        self.position(rel).is_ok()
    }

    /// Sets the link named `rel`, and returns the one it replaced.
    ///
    /// A literal name is best given as [`Text::from_static`], which
    /// allocates nothing.
    pub fn insert(&mut self, rel: impl Into<Text>, link: Link) -> Option<Link> {
        let rel = rel.into();
        match self.position(&rel) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, link)),
            Err(at) => {
                self.0.insert(at, (rel, link));
                None
            }
        }
    }

    /// Removes the link named `rel` and returns it.
    pub fn remove(&mut self, rel: &str) -> Option<Link> {
        self.position(rel).ok().map(|at| self.0.remove(at).1)
    }

    /// How many links there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(name, _)| name.as_str())
    }

    /// The names and links, in order of name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Link)> {
        self.0.iter().map(|(name, link)| (name.as_str(), link))
    }
}

/// Later pairs replace earlier ones of the same name, as in a map.
impl<R: Into<Text>> FromIterator<(R, Link)> for Links {
    fn from_iter<I: IntoIterator<Item = (R, Link)>>(pairs: I) -> Links {
        let mut links = Links::new();
        for (rel, link) in pairs {
            links.insert(rel, link);
        }
        links
    }
}

impl From<BTreeMap<String, Link>> for Links {
    fn from(map: BTreeMap<String, Link>) -> Links {
        // Already ordered and unique.
        Links(map.into_iter().map(|(rel, link)| (relation(&rel), link)).collect())
    }
}

impl<'a> IntoIterator for &'a Links {
    type Item = (&'a str, &'a Link);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (Text, Link)>, fn(&'a (Text, Link)) -> (&'a str, &'a Link)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(name, link)| (name.as_str(), link))
    }
}

/// `links["self"]`, as for a map.
///
/// # Panics
///
/// When there is no link of that name.
impl std::ops::Index<&str> for Links {
    type Output = Link;

    fn index(&self, rel: &str) -> &Link {
        self.get(rel).unwrap_or_else(|| panic!("no link named `{rel}`"))
    }
}

impl IntoIterator for Links {
    type Item = (Text, Link);
    type IntoIter = std::vec::IntoIter<(Text, Link)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl serde::Serialize for Links {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl crate::json::WriteJson for Links {
    fn write_json(&self, out: &mut Vec<u8>) {
        crate::json::write_entries(out, self.iter());
    }
}

impl<'de> serde::Deserialize<'de> for Links {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Links, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Links;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of link names to links")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Links, A::Error> {
                let mut links = Links(Vec::with_capacity(map.size_hint().unwrap_or(0).min(8)));
                while let Some(rel) = map.next_key_seed(Relation)? {
                    links.insert(rel, map.next_value::<Link>()?);
                }
                Ok(links)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Reads a relation name, shared when it is one the API uses.
struct Relation;

impl<'de> serde::de::DeserializeSeed<'de> for Relation {
    type Value = Text;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Text, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for Relation {
    type Value = Text;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a link name")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Text, E> {
        Ok(relation(name))
    }
}

impl Link {
    /// A JSON link to `href`.
    pub fn json(href: impl Into<Text>) -> Link {
        Link { href: Some(href.into()), r#type: Some(APPLICATION_JSON), extra: Default::default() }
    }
}

/// Builds `_links` from `(relation, href)` pairs of JSON links.
pub fn links<H: Into<Text>, const N: usize>(pairs: [(&'static str, H); N]) -> Links {
    let mut links = Links(Vec::with_capacity(N));
    for (rel, href) in pairs {
        links.insert(Text::from_static(rel), Link::json(href));
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_a_json_map_ordered_by_name() {
        let links = links([("self", "/a".to_owned()), ("parent", "/".to_owned())]);
        assert_eq!(links.keys().collect::<Vec<_>>(), ["parent", "self"]);
        assert_eq!(
            serde_json::to_string(&links).unwrap(),
            r#"{"parent":{"href":"/","type":"application/json"},"self":{"href":"/a","type":"application/json"}}"#
        );
        let read: Links = serde_json::from_str(&serde_json::to_string(&links).unwrap()).unwrap();
        assert_eq!(read, links);
        assert_eq!(read["self"].href.as_deref(), Some("/a"));
    }

    #[test]
    fn a_repeated_name_keeps_the_last_link_as_a_map_would() {
        let read: Links =
            serde_json::from_str(r#"{"self": {"href": "/first"}, "self": {"href": "/second"}}"#).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read.get("self").and_then(|l| l.href.as_deref()), Some("/second"));
    }

    #[test]
    fn insert_replaces_and_remove_takes() {
        let mut links = Links::new();
        assert!(links.is_empty());
        assert_eq!(links.insert("next", Link::json("/2")), None);
        assert_eq!(links.insert("first", Link::json("/0")), None);
        assert_eq!(links.insert("next", Link::json("/3")), Some(Link::json("/2")));
        assert_eq!(
            links.iter().map(|(rel, l)| (rel, l.href.as_deref())).collect::<Vec<_>>(),
            [("first", Some("/0")), ("next", Some("/3"))]
        );
        assert!(links.contains_key("first"));
        assert_eq!(links.remove("first"), Some(Link::json("/0")));
        assert_eq!(links.get("first"), None);
        assert_eq!(links.len(), 1);
    }

    #[test]
    fn known_relations_and_the_content_type_are_static_text() {
        let built = links([("self", "/a"), ("parent", "/")]);
        let read: Links =
            serde_json::from_str(r#"{"self": {"href": "/a"}, "next": {"href": "/b"}, "custom": {}}"#)
                .unwrap();
        let from_map = Links::from(BTreeMap::from([("prev".to_owned(), Link::json("/c"))]));
        for links in [&built, &read, &from_map] {
            for (rel, _) in links.0.iter().filter(|(rel, _)| rel != "custom") {
                assert!(rel.is_static(), "{rel}");
            }
        }
        assert!(!read.0.iter().find(|(rel, _)| rel == "custom").unwrap().0.is_static());
        assert!(built["self"].r#type.as_ref().is_some_and(Text::is_static));
        assert_eq!(built["self"].href.as_deref(), Some("/a"));
    }

    #[test]
    fn not_a_map_is_an_error() {
        let err = serde_json::from_str::<Links>(r#"[{"href": "/"}]"#).unwrap_err();
        assert!(err.to_string().contains("a map of link names to links"), "{err}");
    }
}
