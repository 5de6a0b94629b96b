//! Symbol and asset names stored inline, and the registry that interns them as small integer ids.

use std::collections::HashMap;
use std::fmt;

/// Longest symbol or asset name, in UTF-8 bytes. Binance lists names such as `1000SHIBUSDT` and
/// non-ASCII ones such as `币安人生USDT` (16 bytes).
pub const MAX_NAME_LEN: usize = 31;

/// Why a name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("empty name")]
    Empty,
    #[error("name longer than {MAX_NAME_LEN} bytes")]
    TooLong,
    #[error("name contains whitespace, a control character or a quote")]
    InvalidChar,
}

/// A symbol or asset name (`BTCUSDT`, `USDT`), stored inline so records stay `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name {
    len: u8,
    bytes: [u8; MAX_NAME_LEN],
}

impl Name {
    /// Validates and stores a name.
    pub fn new(text: &str) -> Result<Name, NameError> {
        if text.is_empty() {
            return Err(NameError::Empty);
        }
        if text.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong);
        }
        // ASCII names (nearly all) are checked bytewise: the ASCII whitespace and control
        // characters are exactly the bytes up to the space, and DEL.
        let invalid = if text.is_ascii() {
            text.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'"' || b == b'\\')
        } else {
            text.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
        };
        if invalid {
            return Err(NameError::InvalidChar);
        }
        let mut bytes = [0u8; MAX_NAME_LEN];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(Name {
            len: text.len() as u8,
            bytes,
        })
    }

    /// [`Name::new`] for bytes that are all printable ASCII (the exchange's symbols): the same
    /// name, without a UTF-8 pass or a character loop; `None` for anything else, including
    /// every text `Name::new` refuses (it then gives the reason) and non-ASCII names.
    #[inline]
    pub fn from_plain_ascii(bytes: &[u8]) -> Option<Name> {
        if bytes.is_empty() || bytes.len() > MAX_NAME_LEN {
            return None;
        }
        // Printable ASCII is 0x21..=0x7e; Name::new also refuses the quote and the backslash.
        if !bytes
            .iter()
            .all(|&b| (0x21..0x7f).contains(&b) && b != b'"' && b != b'\\')
        {
            return None;
        }
        let mut stored = [0u8; MAX_NAME_LEN];
        stored[..bytes.len()].copy_from_slice(bytes);
        Some(Name {
            len: bytes.len() as u8,
            bytes: stored,
        })
    }

    pub fn as_str(&self) -> &str {
        // Built only from a &str in `new`, so the bytes are valid UTF-8.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A contract symbol such as `BTCUSDT`.
pub type Symbol = Name;

/// A margin asset such as `USDT`.
pub type Asset = Name;

/// The hub's small integer id for a symbol; frames carry ids, not names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymbolId(pub u32);

/// Name ↔ id registry. Ids are assigned in insertion order and never reused, so a symbol that
/// leaves the universe keeps its id and a returning one gets it back.
#[derive(Debug, Default, Clone)]
pub struct SymbolRegistry {
    names: Vec<Symbol>,
    ids: HashMap<Symbol, SymbolId>,
}

impl SymbolRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `symbol`, assigning the next free one if it is new.
    pub fn intern(&mut self, symbol: Symbol) -> SymbolId {
        if let Some(id) = self.ids.get(&symbol) {
            return *id;
        }
        let id = SymbolId(self.names.len() as u32);
        self.names.push(symbol);
        self.ids.insert(symbol, id);
        id
    }

    pub fn id(&self, symbol: &Symbol) -> Option<SymbolId> {
        self.ids.get(symbol).copied()
    }

    pub fn name(&self, id: SymbolId) -> Option<Symbol> {
        self.names.get(id.0 as usize).copied()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// All names in id order.
    pub fn names(&self) -> &[Symbol] {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_validate() {
        assert_eq!(Name::new("BTCUSDT").unwrap().as_str(), "BTCUSDT");
        assert_eq!(Name::new("币安人生USDT").unwrap().as_str(), "币安人生USDT");
        assert_eq!(Name::new(""), Err(NameError::Empty));
        assert_eq!(Name::new(&"A".repeat(32)), Err(NameError::TooLong));
        assert_eq!(Name::new("BTC USDT"), Err(NameError::InvalidChar));
        assert_eq!(Name::new("BTC\""), Err(NameError::InvalidChar));
    }

    #[test]
    fn plain_ascii_names_are_the_names_new_gives() {
        // Every one- and two-byte text, and lengths around the limit.
        let mut texts: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        for a in (0..=255u8).step_by(3) {
            for b in (0..=255u8).step_by(5) {
                texts.push(vec![b'B', a, b]);
            }
        }
        texts.extend([
            Vec::new(),
            b"A".repeat(31),
            b"A".repeat(32),
            "币安人生USDT".as_bytes().to_vec(),
        ]);
        for text in texts {
            let fast = Name::from_plain_ascii(&text);
            let general = std::str::from_utf8(&text).ok().map(Name::new);
            match fast {
                Some(name) => assert_eq!(general, Some(Ok(name)), "{text:?}"),
                // Declined: refused by `new`, or not ASCII.
                None => assert!(!text.is_ascii() || !matches!(general, Some(Ok(_))), "{text:?}"),
            }
        }
    }

    #[test]
    fn registry_interns_stably() {
        let mut r = SymbolRegistry::new();
        let btc = Name::new("BTCUSDT").unwrap();
        let eth = Name::new("ETHUSDT").unwrap();
        assert_eq!(r.intern(btc), SymbolId(0));
        assert_eq!(r.intern(eth), SymbolId(1));
        assert_eq!(r.intern(btc), SymbolId(0));
        assert_eq!(r.name(SymbolId(1)), Some(eth));
        assert_eq!(r.id(&eth), Some(SymbolId(1)));
        assert_eq!(r.len(), 2);
    }
}
