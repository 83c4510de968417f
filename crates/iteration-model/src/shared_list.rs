//! [`SharedList`]: an immutable list that is cheap to clone.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::json::WriteJson;

/// An immutable list that is cheap to clone: a shared `Arc<[T]>`, or
/// nothing at all when empty.
///
/// A targeting rule's clauses are free-form JSON, copied from the catalog
/// into every iteration that uses the rule; held as a `SharedList`, the copy
/// is a reference count rather than a deep clone of every value.
///
/// It reads like a slice (it dereferences to one), compares as its items
/// do, and is written and read in JSON as an array.
///
/// # Example
///
/// ```
/// use iteration_model::SharedList;
/// use serde_json::json;
///
/// let clauses = SharedList::from(vec![json!({"attribute": "country", "op": "in", "values": ["CA"]})]);
/// let shared = clauses.clone(); // the same values, one more reference
/// assert_eq!(shared.len(), 1);
/// assert_eq!(shared[0]["op"], "in");
/// assert_eq!(serde_json::to_string(&shared)?, r#"[{"attribute":"country","op":"in","values":["CA"]}]"#);
/// assert_eq!(serde_json::from_str::<SharedList<serde_json::Value>>("[]")?, SharedList::default());
/// # Ok::<(), serde_json::Error>(())
/// ```
pub struct SharedList<T>(Option<Arc<[T]>>);

impl<T> SharedList<T> {
    /// The empty list, which allocates nothing.
    pub const fn new() -> SharedList<T> {
        SharedList(None)
    }

    /// The items as a slice.
    pub fn as_slice(&self) -> &[T] {
        self.0.as_deref().unwrap_or(&[])
    }
}

impl<T> Clone for SharedList<T> {
    /// Another reference to the same items: nothing is copied.
    fn clone(&self) -> SharedList<T> {
        SharedList(self.0.clone())
    }
}

impl<T> Default for SharedList<T> {
    /// The empty list, which allocates nothing.
    fn default() -> SharedList<T> {
        SharedList::new()
    }
}

impl<T> Deref for SharedList<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> AsRef<[T]> for SharedList<T> {
    fn as_ref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: fmt::Debug> fmt::Debug for SharedList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl<T: PartialEq> PartialEq for SharedList<T> {
    fn eq(&self, other: &SharedList<T>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Eq> Eq for SharedList<T> {}

impl<T: PartialEq> PartialEq<[T]> for SharedList<T> {
    fn eq(&self, other: &[T]) -> bool {
        self.as_slice() == other
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for SharedList<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: PartialEq, const N: usize> PartialEq<[T; N]> for SharedList<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        self.as_slice() == other
    }
}

impl<T> From<Vec<T>> for SharedList<T> {
    /// Moves the items into a shared allocation (none when empty).
    fn from(items: Vec<T>) -> SharedList<T> {
        SharedList((!items.is_empty()).then(|| Arc::from(items)))
    }
}

impl<T> From<Arc<[T]>> for SharedList<T> {
    /// Shares the allocation: nothing is copied.
    fn from(items: Arc<[T]>) -> SharedList<T> {
        SharedList(Some(items))
    }
}

impl<T> FromIterator<T> for SharedList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> SharedList<T> {
        SharedList::from(items.into_iter().collect::<Vec<T>>())
    }
}

impl<'a, T> IntoIterator for &'a SharedList<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T: serde::Serialize> serde::Serialize for SharedList<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.as_slice())
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for SharedList<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<SharedList<T>, D::Error> {
        Vec::<T>::deserialize(deserializer).map(SharedList::from)
    }
}

impl<T: WriteJson> WriteJson for SharedList<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        crate::json::write_items(out, self.as_slice());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn a_clone_shares_the_items() {
        let list = SharedList::from(vec![json!({"op": "in"}), json!(1)]);
        let copy = list.clone();
        assert_eq!(copy, list);
        assert!(std::ptr::eq(copy.as_ptr(), list.as_ptr()));
        assert_eq!(copy, vec![json!({"op": "in"}), json!(1)]);
        assert_eq!(copy.iter().count(), 2);
        assert_eq!((&copy).into_iter().next(), Some(&json!({"op": "in"})));
        assert_eq!(format!("{copy:?}"), format!("{:?}", [json!({"op": "in"}), json!(1)]));
    }

    #[test]
    fn json_is_an_array_as_serde_json_writes_a_vec() {
        for items in [vec![], vec![json!(null)], vec![json!({"a": [1, "two"]}), json!("x\ny")]] {
            let list: SharedList<Value> = items.iter().cloned().collect();
            let written = serde_json::to_vec(&list).unwrap();
            assert_eq!(written, serde_json::to_vec(&items).unwrap());
            assert_eq!(crate::json::to_json_vec(&list), written);
            assert_eq!(serde_json::from_slice::<SharedList<Value>>(&written).unwrap(), items);
        }
        assert!(serde_json::from_str::<SharedList<Value>>("{}").is_err());
        assert!(SharedList::<Value>::default().is_empty());
        assert_eq!(SharedList::<Value>::from(Vec::new()), SharedList::new());
    }
}
