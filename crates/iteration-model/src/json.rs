//! Writing representations as JSON without going through serde.
//!
//! A server answers every create iteration with a 3 KiB `IterationRep`, and
//! serde_json spends most of that time on its per-entry machinery: each map
//! key goes through a key serializer and an escaping scan, each value
//! through the formatter's state. [`WriteJson`] writes the same bytes
//! directly: the `representation!` macro writes each known key from a
//! literal, and strings are scanned once. Its output is byte for byte what
//! `serde_json::to_writer` writes (a property test holds the two together on
//! every representation), so a reader cannot tell which one wrote.

use std::collections::BTreeMap;

/// Writes a value as compact JSON, exactly as `serde_json::to_writer` would.
pub trait WriteJson {
    /// Appends the value's JSON to `out`.
    fn write_json(&self, out: &mut Vec<u8>);
}

/// `value` as compact JSON, the bytes `serde_json::to_vec` gives.
pub fn to_json_vec<T: WriteJson + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    value.write_json(&mut out);
    out
}

/// Which bytes a JSON string escapes, and how: 0 for none, `u` for
/// `\u00XX`, else the letter after the backslash.
const ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// A string as serde_json writes one: `"` and `\` escaped with a backslash,
/// the control characters as `\b \f \n \r \t` or `\u00XX`, everything else
/// as it is.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.push(b'"');
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPES[usize::from(byte)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if escape == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A signed integer in decimal.
pub(crate) fn write_i64(out: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

impl WriteJson for str {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_str(out, self);
    }
}

impl WriteJson for String {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_str(out, self);
    }
}

impl WriteJson for bool {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
}

impl WriteJson for i64 {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_i64(out, *self);
    }
}

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_items(out, self);
    }
}

/// An array of `items`, in their order.
pub(crate) fn write_items<T: WriteJson>(out: &mut Vec<u8>, items: &[T]) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item.write_json(out);
    }
    out.push(b']');
}

impl<T: WriteJson> WriteJson for BTreeMap<String, T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_entries(out, self.iter().map(|(key, value)| (key.as_str(), value)));
    }
}

/// An object of `entries`, in their order.
pub(crate) fn write_entries<'a, T: WriteJson + 'a>(
    out: &mut Vec<u8>,
    entries: impl Iterator<Item = (&'a str, &'a T)>,
) {
    out.push(b'{');
    let mut first = true;
    for (key, value) in entries {
        write_member(out, &mut first, key, value);
    }
    out.push(b'}');
}

/// One member of an object, `,` first unless it is the object's first.
#[inline]
pub(crate) fn write_member<T: WriteJson + ?Sized>(out: &mut Vec<u8>, first: &mut bool, key: &str, value: &T) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    write_str(out, key);
    out.push(b':');
    value.write_json(out);
}

/// Fractions (percentiles, weights) are rare: serde_json writes them, so
/// they come out exactly as it writes them.
impl WriteJson for f64 {
    fn write_json(&self, out: &mut Vec<u8>) {
        // Writing into a Vec cannot fail; a non-finite value is written as `null`, as serde_json does.
        let _ = serde_json::to_writer(&mut *out, self);
    }
}

/// Untyped JSON (unknown fields, clause values) is rare and small: serde_json
/// writes it, so numbers and nesting come out exactly as it writes them.
impl WriteJson for serde_json::Value {
    fn write_json(&self, out: &mut Vec<u8>) {
        // Writing a Value into a Vec cannot fail: no IO, and every key is a string.
        let _ = serde_json::to_writer(&mut *out, self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_strings_are_written_as_serde_json_writes_them() {
        for n in [0, 1, -1, 9, 10, 1_700_000_000_000, i64::MAX, i64::MIN] {
            assert_eq!(to_json_vec(&n), serde_json::to_vec(&n).unwrap(), "{n}");
        }
        let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        for text in ["", "plain", "quote \" and \\ backslash", "é ✓ 𝄞", &every_ascii] {
            assert_eq!(to_json_vec(text), serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }
}
