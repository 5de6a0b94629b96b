//! The typed error every parser returns, and the checked conversions from raw JSON fields.

use crate::decimal::{Decimal, DecimalError};
use crate::symbol::{Name, NameError};
use serde_json::error::Category;

/// Longest excerpt of an offending value kept in an error, in bytes.
const MAX_EXCERPT: usize = 64;

/// Why a payload was rejected. Every variant except [`ParseError::Oversize`] and
/// [`ParseError::UnsupportedEvent`] names the payload kind (`"aggTrade"`, `"REST klines"`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("payload of {len} bytes exceeds the {max}-byte limit")]
    Oversize { len: usize, max: usize },
    #[error("{kind}: truncated payload: {detail}")]
    Truncated { kind: &'static str, detail: String },
    #[error("{kind}: malformed JSON: {detail}")]
    Malformed { kind: &'static str, detail: String },
    #[error("{kind}: unexpected shape: {detail}")]
    Schema { kind: &'static str, detail: String },
    #[error("{kind}: field `{field}` is not a valid decimal ({value:?}): {source}")]
    InvalidDecimal {
        kind: &'static str,
        field: &'static str,
        value: String,
        source: DecimalError,
    },
    #[error("{kind}: field `{field}` is not a valid name ({value:?}): {source}")]
    InvalidName {
        kind: &'static str,
        field: &'static str,
        value: String,
        source: NameError,
    },
    #[error("{kind}: field `{field}` has invalid value {value:?}: {reason}")]
    InvalidValue {
        kind: &'static str,
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("unsupported event type {event:?}")]
    UnsupportedEvent { event: String },
}

impl ParseError {
    /// A stable short label for counters and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            ParseError::Oversize { .. } => "oversize",
            ParseError::Truncated { .. } => "truncated",
            ParseError::Malformed { .. } => "malformed",
            ParseError::Schema { .. } => "schema",
            ParseError::InvalidDecimal { .. } => "invalid_decimal",
            ParseError::InvalidName { .. } => "invalid_name",
            ParseError::InvalidValue { .. } => "invalid_value",
            ParseError::UnsupportedEvent { .. } => "unsupported_event",
        }
    }
}

/// Rejects payloads longer than `max` before any parsing work.
pub(crate) fn check_len(bytes: &[u8], max: usize) -> Result<(), ParseError> {
    if bytes.len() > max {
        return Err(ParseError::Oversize { len: bytes.len(), max });
    }
    Ok(())
}

/// Maps a serde_json error to its category: end of input → `Truncated`, bad JSON → `Malformed`,
/// valid JSON of the wrong shape → `Schema`. The message gains the nearest preceding key when
/// serde does not name the field itself.
pub(crate) fn from_serde(kind: &'static str, bytes: &[u8], err: serde_json::Error) -> ParseError {
    let mut detail = err.to_string();
    let category = err.classify();
    if category == Category::Data && !detail.contains("field `") {
        if let Some(key) = key_before(bytes, err.line(), err.column()) {
            detail.push_str(" (near field `");
            detail.push_str(&key);
            detail.push_str("`)");
        }
    }
    match category {
        Category::Eof => ParseError::Truncated { kind, detail },
        Category::Syntax | Category::Io => ParseError::Malformed { kind, detail },
        Category::Data => ParseError::Schema { kind, detail },
    }
}

/// A schema error found after serde accepted the shape (for example a filter lacking a field).
pub(crate) fn schema(kind: &'static str, detail: String) -> ParseError {
    ParseError::Schema { kind, detail }
}

/// The last object key that starts before serde's error position (1-based line and column).
fn key_before(bytes: &[u8], line: usize, column: usize) -> Option<String> {
    let mut line_start = 0usize;
    for _ in 1..line {
        let rest = bytes.get(line_start..)?;
        line_start += rest.iter().position(|&b| b == b'\n')? + 1;
    }
    let end = line_start.saturating_add(column).min(bytes.len());
    let head = bytes.get(..end)?;
    // Walk back to a `"` followed (after spaces) by `:`: the closing quote of a key.
    let mut i = head.len();
    while i > 0 {
        i -= 1;
        if head.get(i) != Some(&b':') {
            continue;
        }
        let mut j = i;
        while j > 0 && head.get(j - 1).is_some_and(|b| b.is_ascii_whitespace()) {
            j -= 1;
        }
        if j == 0 || head.get(j - 1) != Some(&b'"') {
            continue;
        }
        let close = j - 1;
        let open = head.get(..close)?.iter().rposition(|&b| b == b'"')?;
        let key = head.get(open + 1..close)?;
        if key.len() > MAX_EXCERPT || key.contains(&b'\\') {
            return None;
        }
        return std::str::from_utf8(key).ok().map(str::to_owned);
    }
    None
}

/// At most [`MAX_EXCERPT`] bytes of `text`, cut on a character boundary.
pub(crate) fn excerpt(text: &str) -> String {
    if text.len() <= MAX_EXCERPT {
        return text.to_owned();
    }
    let mut end = MAX_EXCERPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text[..end].to_owned();
    out.push('…');
    out
}

/// A field's text as sent: a `&str` (serde, the websocket scans) or raw bytes (the REST byte
/// scan, whose decimal fields are ASCII whenever they parse). Errors quote it as text.
pub(crate) trait FieldText: Copy {
    fn parse_decimal(self) -> Result<Decimal, DecimalError>;
    /// At most [`MAX_EXCERPT`] bytes of the text, for an error.
    fn excerpt(self) -> String;
}

impl FieldText for &str {
    #[inline(always)]
    fn parse_decimal(self) -> Result<Decimal, DecimalError> {
        Decimal::parse(self)
    }

    fn excerpt(self) -> String {
        excerpt(self)
    }
}

impl FieldText for &[u8] {
    #[inline(always)]
    fn parse_decimal(self) -> Result<Decimal, DecimalError> {
        Decimal::parse_bytes(self)
    }

    fn excerpt(self) -> String {
        excerpt(&String::from_utf8_lossy(self))
    }
}

// The three decimal readers are inlined into the record builders of the hot paths, where the
// error construction (out of line) is the only thing that is not a few instructions.

/// An exact decimal from a JSON decimal string.
#[inline(always)]
pub(crate) fn decimal(kind: &'static str, field: &'static str, text: impl FieldText) -> Result<Decimal, ParseError> {
    match text.parse_decimal() {
        Ok(value) => Ok(value),
        Err(source) => Err(invalid_decimal(kind, field, text, source)),
    }
}

#[cold]
#[inline(never)]
fn invalid_decimal(kind: &'static str, field: &'static str, text: impl FieldText, source: DecimalError) -> ParseError {
    ParseError::InvalidDecimal {
        kind,
        field,
        value: text.excerpt(),
        source,
    }
}

/// A decimal that must be above zero (trade prices and quantities, bar prices).
#[inline(always)]
pub(crate) fn positive(kind: &'static str, field: &'static str, text: impl FieldText) -> Result<Decimal, ParseError> {
    let value = decimal(kind, field, text)?;
    if !value.is_positive() {
        return Err(invalid(kind, field, text, "must be positive"));
    }
    Ok(value)
}

/// A decimal that must not be below zero (volumes, book quantities, prices that may be unset).
#[inline(always)]
pub(crate) fn non_negative(
    kind: &'static str,
    field: &'static str,
    text: impl FieldText,
) -> Result<Decimal, ParseError> {
    let value = decimal(kind, field, text)?;
    if value.is_negative() {
        return Err(invalid(kind, field, text, "must not be negative"));
    }
    Ok(value)
}

/// An optional decimal: absent, `null` and `""` all mean "not reported".
pub(crate) fn optional_decimal(
    kind: &'static str,
    field: &'static str,
    text: Option<&str>,
) -> Result<Option<Decimal>, ParseError> {
    match text {
        None | Some("") => Ok(None),
        Some(t) => decimal(kind, field, t).map(Some),
    }
}

/// [`optional_decimal`] that must not be below zero when present.
pub(crate) fn optional_non_negative(
    kind: &'static str,
    field: &'static str,
    text: Option<&str>,
) -> Result<Option<Decimal>, ParseError> {
    match text {
        None | Some("") => Ok(None),
        Some(t) => non_negative(kind, field, t).map(Some),
    }
}

/// A symbol or asset name.
pub(crate) fn name(kind: &'static str, field: &'static str, text: &str) -> Result<Name, ParseError> {
    Name::new(text).map_err(|source| ParseError::InvalidName {
        kind,
        field,
        value: excerpt(text),
        source,
    })
}

/// A trade or order id that the exchange sends as a signed number but that is never negative.
pub(crate) fn id(kind: &'static str, field: &'static str, value: i64) -> Result<u64, ParseError> {
    u64::try_from(value).map_err(|_| ParseError::InvalidValue {
        kind,
        field,
        value: value.to_string(),
        reason: "id must not be negative",
    })
}

/// An `InvalidValue` error for a text field.
#[cold]
#[inline(never)]
pub(crate) fn invalid(
    kind: &'static str,
    field: &'static str,
    text: impl FieldText,
    reason: &'static str,
) -> ParseError {
    ParseError::InvalidValue {
        kind,
        field,
        value: text.excerpt(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_err(json: &str) -> serde_json::Error {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Probe {
            a: i64,
            b: String,
        }
        serde_json::from_str::<Probe>(json).unwrap_err()
    }

    #[test]
    fn serde_categories_map_to_variants() {
        let eof = from_serde("t", b"{\"a\":1", serde_err("{\"a\":1"));
        assert_eq!(eof.reason(), "truncated");
        let syntax = from_serde("t", b"{\"a\":1x}", serde_err("{\"a\":1x}"));
        assert_eq!(syntax.reason(), "malformed");
        let missing = from_serde("t", b"{\"a\":1}", serde_err("{\"a\":1}"));
        assert!(matches!(&missing, ParseError::Schema { kind: "t", detail } if detail.contains("missing field `b`")));
    }

    #[test]
    fn wrong_type_names_the_field() {
        let json = "{\"a\":1,\n \"b\" : 5}";
        let err = from_serde("t", json.as_bytes(), serde_err(json));
        match err {
            ParseError::Schema { detail, .. } => assert!(detail.contains("near field `b`"), "{detail}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn excerpts_are_bounded_on_char_boundaries() {
        assert_eq!(excerpt("abc"), "abc");
        let long = "币".repeat(40);
        let cut = excerpt(&long);
        assert!(cut.len() <= MAX_EXCERPT + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn checked_fields() {
        assert_eq!(decimal("t", "p", "1.50").unwrap().to_string(), "1.50");
        assert_eq!(decimal("t", "p", "1e5").unwrap_err().reason(), "invalid_decimal");
        assert_eq!(positive("t", "p", "0").unwrap_err().reason(), "invalid_value");
        assert_eq!(non_negative("t", "q", "-1").unwrap_err().reason(), "invalid_value");
        assert_eq!(non_negative("t", "q", "0").unwrap(), Decimal::ZERO);
        assert_eq!(optional_decimal("t", "ap", Some("")).unwrap(), None);
        assert_eq!(name("t", "s", "").unwrap_err().reason(), "invalid_name");
        assert_eq!(id("t", "f", -1).unwrap_err().reason(), "invalid_value");
        assert_eq!(id("t", "f", 7).unwrap(), 7);
        assert_eq!(check_len(&[0; 3], 2), Err(ParseError::Oversize { len: 3, max: 2 }));
    }
}
