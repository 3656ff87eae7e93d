//! Mutations of real payloads: structural ones on the parsed JSON, then
//! byte-level ones on its text.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

/// Fields that carry base64 on some platform.
const BASE64_KEYS: &[&str] = &["data", "body", "Body", "binaryValue", "Data", "message"];
/// Stands for part `n` (a huge string, or a value nested so deep that a
/// `Value` could not even be dropped without overflowing the stack) until
/// the text is written: serialising megabytes in a debug build is slow.
fn placeholder(n: usize) -> String {
    format!("\u{1}nubes-part-{n}\u{1}")
}

/// One mutation.
#[derive(Debug, Clone)]
pub enum Op {
    /// Cut the text at a random point.
    Truncate(Index),
    /// Replace a node by a value of another type.
    WrongType(Index, u8),
    /// Remove a member of an object.
    RemoveField(Index),
    /// Add a member to an object.
    ExtraField(Index, String, u8),
    /// Replace a string by a huge one.
    HugeString(Index, u8),
    /// Replace a base64 field (or any string) by invalid base64, and
    /// claim base64 bodies everywhere.
    BadBase64(Index, u8),
    /// Replace a node by arrays or objects nested very deep.
    DeepNesting(Index, u8, bool),
    /// Insert bytes that are not UTF-8 (or a lone surrogate escape) into a string.
    InvalidUtf8(Index, u8),
    /// Overwrite random bytes.
    FlipBytes(Vec<(Index, u8)>),
}

/// One random mutation.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<Index>().prop_map(Op::Truncate),
        (any::<Index>(), any::<u8>()).prop_map(|(i, k)| Op::WrongType(i, k)),
        any::<Index>().prop_map(Op::RemoveField),
        (any::<Index>(), "[a-zA-Z_$.-]{0,12}", any::<u8>())
            .prop_map(|(i, n, k)| Op::ExtraField(i, n, k)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, k)| Op::HugeString(i, k)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, k)| Op::BadBase64(i, k)),
        (any::<Index>(), any::<u8>(), any::<bool>()).prop_map(|(i, d, o)| Op::DeepNesting(i, d, o)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, k)| Op::InvalidUtf8(i, k)),
        prop::collection::vec((any::<Index>(), any::<u8>()), 1..8).prop_map(Op::FlipBytes),
    ]
}

/// One to four mutations.
pub fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..5)
}

/// Random bytes, or random JSON-ish text.
pub fn noise() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600),
        "[\\[\\]{}\":,0-9a-zA-Z\\\\ .eE+-]{0,300}".prop_map(String::into_bytes),
    ]
}

fn odd_value(k: u8) -> Value {
    use serde_json::json;
    match k % 20 {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(false),
        3 => json!(0),
        4 => json!(-1),
        5 => json!(u64::MAX),
        6 => json!(i64::MIN),
        7 => json!(1.5e308),
        8 => json!(-0.000001),
        9 => json!(""),
        10 => json!("x"),
        11 => json!([]),
        12 => json!({}),
        13 => json!([null, 1, "a", {}]),
        14 => json!({"": {"": []}}),
        15 => json!("99999999999999999999999"),
        16 => json!("2024-13-45T99:99:99Z"),
        17 => json!("\u{0}\u{7f}\u{1b}"),
        18 => json!("🦀é/../%2e%2e%00"),
        _ => json!("-1"),
    }
}

fn bad_base64(k: u8) -> &'static str {
    const BAD: &[&str] = &[
        "!!!!",
        "abc",
        "a===",
        "YW Jj!",
        "=",
        "====",
        "-_-_",
        "AAAA====",
        "QQ",
        "Q",
        "YWJj\u{0}",
        "ÿÿÿÿ",
        "%%%%",
        "YWJjZA=",
        "Y\nW\nJ\nj\n@",
    ];
    BAD[usize::from(k) % BAD.len()]
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Every node's JSON pointer, with the key it sits under.
fn nodes(v: &Value, at: String, key: &str, out: &mut Vec<(String, String)>) {
    out.push((at.clone(), key.to_owned()));
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                nodes(child, format!("{at}/{}", escape(k)), k, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                nodes(child, format!("{at}/{i}"), key, out);
            }
        }
        _ => {}
    }
}

fn all(v: &Value, keep: impl Fn(&Value, &str) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    nodes(v, String::new(), "", &mut out);
    out.into_iter()
        .filter(|(p, k)| v.pointer(p).is_some_and(|n| keep(n, k)))
        .map(|(p, _)| p)
        .collect()
}

fn set(v: &mut Value, pointer: &str, new: Value) {
    if let Some(node) = v.pointer_mut(pointer) {
        *node = new;
    }
}

fn deep(depth: u8, objects: bool) -> String {
    const DEPTHS: [usize; 16] = [
        16, 16, 64, 127, 127, 128, 128, 129, 129, 200, 1_000, 1_000, 5_000, 5_000, 20_000, 200_000,
    ];
    let n = DEPTHS[usize::from(depth) % DEPTHS.len()];
    if objects {
        format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))
    } else {
        format!("{}{}", "[".repeat(n), "]".repeat(n))
    }
}

fn force_base64_flags(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k.eq_ignore_ascii_case("isBase64Encoded") {
                    *child = Value::Bool(true);
                } else {
                    force_base64_flags(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(force_base64_flags),
        _ => {}
    }
}

/// The payload with `ops` applied, in order.
pub fn apply(original: &[u8], ops: &[Op]) -> Vec<u8> {
    let mut json: Option<Value> = serde_json::from_slice(original).ok();
    let mut text: Vec<u8> = original.to_vec();
    let mut parts: Vec<String> = Vec::new();
    let flush = |json: &mut Option<Value>, text: &mut Vec<u8>, parts: &mut Vec<String>| {
        if let Some(v) = json.take() {
            let mut s = serde_json::to_string(&v).unwrap_or_default();
            for (n, part) in parts.drain(..).enumerate() {
                let quoted = serde_json::to_string(&placeholder(n)).unwrap_or_default();
                s = s.replacen(&quoted, &part, 1);
            }
            *text = s.into_bytes();
        }
    };
    for op in ops {
        let structural = !matches!(op, Op::Truncate(_) | Op::InvalidUtf8(..) | Op::FlipBytes(_));
        if structural && json.is_none() && parts.is_empty() {
            json = serde_json::from_slice(&text).ok();
        }
        match (op, json.as_mut()) {
            (Op::WrongType(i, k), Some(v)) => {
                let p = all(v, |_, _| true);
                set(v, &p[i.index(p.len())], odd_value(*k));
            }
            (Op::RemoveField(i), Some(v)) => {
                let p = all(v, |_, _| true);
                let p = &p[i.index(p.len())];
                if let Some((parent, last)) = p.rsplit_once('/') {
                    let key = last.replace("~1", "/").replace("~0", "~");
                    match v.pointer_mut(parent) {
                        Some(Value::Object(map)) => {
                            map.remove(&key);
                        }
                        Some(Value::Array(items)) => {
                            if let Ok(n) = key.parse::<usize>()
                                && n < items.len()
                            {
                                items.remove(n);
                            }
                        }
                        _ => {}
                    }
                }
            }
            (Op::ExtraField(i, name, k), Some(v)) => {
                let p = all(v, |n, _| n.is_object());
                if !p.is_empty()
                    && let Some(Value::Object(map)) = v.pointer_mut(&p[i.index(p.len())])
                {
                    map.insert(name.clone(), odd_value(*k));
                }
            }
            (Op::HugeString(i, k), Some(v)) => {
                // Mostly kilobytes; a few 70 kB, one in sixteen a megabyte
                // (debug-mode JSON is slow: keeps the suite bounded).
                const SIZES: [usize; 16] = [
                    300,
                    300,
                    300,
                    300,
                    300,
                    300,
                    300,
                    300,
                    5_000,
                    5_000,
                    5_000,
                    5_000,
                    5_000,
                    70_000,
                    70_000,
                    1 << 20,
                ];
                let p = all(v, |n, _| n.is_string());
                if !p.is_empty() {
                    let len = SIZES[usize::from(*k) % SIZES.len()];
                    let unit = ["a", "é", "%2F", "\\\\", "🦀", "A=="][usize::from(*k / 16) % 6];
                    let s = format!("\"{}\"", unit.repeat(len / unit.len() + 1));
                    set(
                        v,
                        &p[i.index(p.len())],
                        Value::String(placeholder(parts.len())),
                    );
                    parts.push(s);
                }
            }
            (Op::BadBase64(i, k), Some(v)) => {
                let mut p = all(v, |n, key| n.is_string() && BASE64_KEYS.contains(&key));
                if p.is_empty() {
                    p = all(v, |n, _| n.is_string());
                }
                if !p.is_empty() {
                    set(
                        v,
                        &p[i.index(p.len())],
                        Value::String(bad_base64(*k).into()),
                    );
                }
                if k % 2 == 0 {
                    force_base64_flags(v);
                }
            }
            (Op::DeepNesting(i, d, objects), Some(v)) => {
                let p = all(v, |_, _| true);
                set(
                    v,
                    &p[i.index(p.len())],
                    Value::String(placeholder(parts.len())),
                );
                parts.push(deep(*d, *objects));
            }
            (Op::Truncate(i), _) => {
                flush(&mut json, &mut text, &mut parts);
                text.truncate(i.index(text.len() + 1));
            }
            (Op::InvalidUtf8(i, k), _) => {
                flush(&mut json, &mut text, &mut parts);
                const BAD: &[&[u8]] = &[
                    b"\xff",
                    b"\xc3\x28",
                    b"\xed\xa0\x80",
                    b"\xf4\x90\x80\x80",
                    b"\x80",
                    b"\\ud800",
                    b"\\udc00x",
                    b"\\u00",
                    b"\xc0\xaf",
                ];
                let quotes: Vec<usize> = text
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'"')
                    .map(|(n, _)| n + 1)
                    .collect();
                let at = if quotes.is_empty() {
                    i.index(text.len() + 1)
                } else {
                    quotes[i.index(quotes.len())]
                };
                let bad = BAD[usize::from(*k) % BAD.len()];
                text.splice(at..at, bad.iter().copied());
            }
            (Op::FlipBytes(flips), _) => {
                flush(&mut json, &mut text, &mut parts);
                if !text.is_empty() {
                    for (i, b) in flips {
                        let n = i.index(text.len());
                        text[n] = *b;
                    }
                }
            }
            _ => {}
        }
    }
    flush(&mut json, &mut text, &mut parts);
    text
}
