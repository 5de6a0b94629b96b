//! Finds the event in a websocket message, raw or inside a combined-stream envelope
//! (`{"stream":"...","data":{...}}`), and reads its `"e"` type without a second full parse.

use super::error::{from_serde, ParseError};
use serde::Deserialize;
use std::borrow::Cow;

/// Where the event object sits in a message and, when a cheap scan could read it, its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located<'a> {
    /// The event is the `data` member of a combined-stream envelope.
    pub enveloped: bool,
    /// The `"e"` value, when it is a plain string the byte scan could read.
    pub event_type: Option<&'a str>,
}

/// Classifies a message by its first key and scans for the event type at the event object's
/// depth. Costs one pass over the bytes up to the `"e"` key (normally the first key).
pub(crate) fn locate(bytes: &[u8]) -> Located<'_> {
    let enveloped = matches!(first_key(bytes), Some(b"stream") | Some(b"data"));
    let depth = if enveloped { 2 } else { 1 };
    Located {
        enveloped,
        event_type: scan_key_string(bytes, depth, b"e"),
    }
}

/// The event type, from the scan when it succeeded, else from a light serde read that ignores
/// everything but `e` (escaped strings, unusual layouts).
pub(crate) fn event_type<'a>(
    kind: &'static str,
    bytes: &'a [u8],
    located: Located<'a>,
) -> Result<Cow<'a, str>, ParseError> {
    if let Some(event) = located.event_type {
        return Ok(Cow::Borrowed(event));
    }
    #[derive(Deserialize)]
    struct Inner<'a> {
        #[serde(borrow, default)]
        e: Option<Cow<'a, str>>,
    }
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, default)]
        e: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        data: Option<Inner<'a>>,
    }
    let probe: Probe<'a> = serde_json::from_slice(bytes).map_err(|err| from_serde(kind, bytes, err))?;
    let event = if located.enveloped {
        probe.data.and_then(|d| d.e)
    } else {
        probe.e
    };
    event.ok_or_else(|| ParseError::Schema {
        kind,
        detail: "missing field `e`".to_owned(),
    })
}

/// The `data` member of a combined-stream envelope; `stream` and other members are ignored.
#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

/// Deserializes the event object of a message in one pass, unwrapping an envelope when present.
pub(crate) fn deserialize_event<'a, T>(kind: &'static str, bytes: &'a [u8], enveloped: bool) -> Result<T, ParseError>
where
    T: Deserialize<'a>,
{
    let result = if enveloped {
        serde_json::from_slice::<Envelope<T>>(bytes).map(|envelope| envelope.data)
    } else {
        serde_json::from_slice::<T>(bytes)
    };
    result.map_err(|err| from_serde(kind, bytes, err))
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// Index of the closing quote of a string whose content starts at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
}

/// The first key of the top-level object.
fn first_key(bytes: &[u8]) -> Option<&[u8]> {
    let open = skip_ws(bytes, 0);
    if bytes.get(open) != Some(&b'{') {
        return None;
    }
    let quote = skip_ws(bytes, open + 1);
    if bytes.get(quote) != Some(&b'"') {
        return None;
    }
    let end = string_end(bytes, quote + 1)?;
    bytes.get(quote + 1..end)
}

/// The string value of `key` in an object at nesting `depth` (1 = top level). `None` when the key
/// is absent, its value is not a plain (unescaped, UTF-8) string, or the bytes end first.
fn scan_key_string<'a>(bytes: &'a [u8], depth: usize, key: &[u8]) -> Option<&'a str> {
    let mut level = 0usize;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'{' | b'[' => level += 1,
            b'}' | b']' => level = level.checked_sub(1)?,
            b'"' => {
                let end = string_end(bytes, i + 1)?;
                if level == depth {
                    let colon = skip_ws(bytes, end + 1);
                    if bytes.get(colon) == Some(&b':') && bytes.get(i + 1..end) == Some(key) {
                        let open = skip_ws(bytes, colon + 1);
                        if bytes.get(open) != Some(&b'"') {
                            return None;
                        }
                        let close = string_end(bytes, open + 1)?;
                        let value = bytes.get(open + 1..close)?;
                        if value.contains(&b'\\') {
                            return None;
                        }
                        return std::str::from_utf8(value).ok();
                    }
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_raw_and_enveloped_events() {
        let raw = br#"{"e":"aggTrade","E":1}"#;
        assert_eq!(
            locate(raw),
            Located {
                enveloped: false,
                event_type: Some("aggTrade")
            }
        );
        let wrapped = br#"{"stream":"a@kline_1m","data":{"E":1,"e":"kline","k":{"e":"x"}}}"#;
        assert_eq!(
            locate(wrapped),
            Located {
                enveloped: true,
                event_type: Some("kline")
            }
        );
        let data_first = br#" { "data" : { "e" : "bookTicker" }, "stream":"x"}"#;
        assert_eq!(locate(data_first).event_type, Some("bookTicker"));
        assert!(locate(data_first).enveloped);
    }

    #[test]
    fn scan_ignores_nested_and_quoted_keys() {
        // An "e" key nested one level deeper and an `"e":"` inside a string value are not the type.
        let nested = br#"{"k":{"e":"inner"},"s":"\"e\":\"fake","e":"outer"}"#;
        assert_eq!(locate(nested).event_type, Some("outer"));
        let escaped = br#"{"e":"agg\u0054rade"}"#;
        assert_eq!(locate(escaped).event_type, None);
        assert_eq!(event_type("t", escaped, locate(escaped)).unwrap(), "aggTrade");
    }

    #[test]
    fn fallback_reports_missing_type_and_truncation() {
        let none = br#"{"E":1}"#;
        assert_eq!(event_type("t", none, locate(none)).unwrap_err().reason(), "schema");
        let cut = br#"{"E":1,"e":"agg"#;
        assert_eq!(event_type("t", cut, locate(cut)).unwrap_err().reason(), "truncated");
        assert_eq!(locate(b"]]]]").event_type, None);
        assert_eq!(locate(b"").event_type, None);
    }
}
