//! A batch of raw messages stored back to back in one buffer with each message's end offset: what a batch of websocket messages crosses the binding as.
//!
//! Handing native code an array of N buffers costs a Node-API lookup and a type check per
//! element, about 900 instructions a message, which is more than parsing an aggTrade message
//! (docs/benchmarks-journal.md). Copied into one buffer on the JavaScript side (about 25 ns a message),
//! the batch crosses as two values whatever its length.

use std::fmt;

/// The messages of a gathered batch, checked once so every slice taken from it is in bounds.
#[derive(Debug, Clone, Copy)]
pub struct GatheredMessages<'a> {
    bytes: &'a [u8],
    ends: &'a [u32],
}

/// Why a gathered batch was refused: its ends do not describe slices of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatherError {
    /// More messages were claimed than there are end offsets.
    CountBeyondEnds { count: usize, ends: usize },
    /// A message's end lies before the previous message's end.
    EndBeforeStart { index: usize, start: u32, end: u32 },
    /// A message's end lies past the bytes given.
    EndPastBytes { index: usize, end: u32, bytes: usize },
}

impl fmt::Display for GatherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatherError::CountBeyondEnds { count, ends } => {
                write!(f, "{count} messages claimed but only {ends} end offsets given")
            }
            GatherError::EndBeforeStart { index, start, end } => {
                write!(f, "message {index} ends at {end}, before its start {start}")
            }
            GatherError::EndPastBytes { index, end, bytes } => {
                write!(f, "message {index} ends at {end}, past the {bytes} bytes given")
            }
        }
    }
}

impl std::error::Error for GatherError {}

impl<'a> GatheredMessages<'a> {
    /// The first `count` messages of `bytes`, message `i` being `bytes[ends[i - 1]..ends[i]]`
    /// (the first starts at 0). Refused unless the ends never decrease and stay within `bytes`.
    pub fn new(bytes: &'a [u8], ends: &'a [u32], count: usize) -> Result<Self, GatherError> {
        let Some(ends) = ends.get(..count) else {
            return Err(GatherError::CountBeyondEnds {
                count,
                ends: ends.len(),
            });
        };
        let mut start = 0u32;
        for (index, &end) in ends.iter().enumerate() {
            if end < start {
                return Err(GatherError::EndBeforeStart { index, start, end });
            }
            if end as usize > bytes.len() {
                return Err(GatherError::EndPastBytes {
                    index,
                    end,
                    bytes: bytes.len(),
                });
            }
            start = end;
        }
        Ok(GatheredMessages { bytes, ends })
    }

    /// The messages in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let bytes = self.bytes;
        let mut start = 0usize;
        // `new` proved every end within `bytes` and not before the previous one.
        self.ends.iter().map(move |&end| {
            let end = end as usize;
            let message = &bytes[start..end];
            start = end;
            message
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_message_runs_from_the_previous_end_to_its_own() {
        let bytes = b"{\"a\":1}{}{\"b\":2}tail";
        let ends = [7, 9, 16, 99];
        let gathered = GatheredMessages::new(bytes, &ends, 3).expect("valid");
        let messages: Vec<&[u8]> = gathered.iter().collect();
        assert_eq!(messages, vec![&b"{\"a\":1}"[..], b"{}", b"{\"b\":2}"]);
    }

    #[test]
    fn an_empty_message_and_an_empty_batch_are_allowed() {
        let gathered = GatheredMessages::new(b"ab", &[0, 2], 2).expect("valid");
        assert_eq!(gathered.iter().collect::<Vec<_>>(), vec![&b""[..], b"ab"]);
        assert_eq!(GatheredMessages::new(b"", &[], 0).expect("valid").iter().count(), 0);
    }

    #[test]
    fn ends_that_do_not_describe_the_bytes_are_refused() {
        assert_eq!(
            GatheredMessages::new(b"abc", &[1], 2).unwrap_err(),
            GatherError::CountBeyondEnds { count: 2, ends: 1 }
        );
        assert_eq!(
            GatheredMessages::new(b"abc", &[2, 1], 2).unwrap_err(),
            GatherError::EndBeforeStart {
                index: 1,
                start: 2,
                end: 1
            }
        );
        let past = GatheredMessages::new(b"abc", &[1, 4], 2).unwrap_err();
        assert_eq!(
            past,
            GatherError::EndPastBytes {
                index: 1,
                end: 4,
                bytes: 3
            }
        );
        assert_eq!(past.to_string(), "message 1 ends at 4, past the 3 bytes given");
    }

    proptest! {
        #[test]
        fn gathering_then_splitting_gives_the_messages_back(
            messages in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..20),
            spare in 0usize..3,
        ) {
            let mut bytes = Vec::new();
            let mut ends = Vec::new();
            for message in &messages {
                bytes.extend_from_slice(message);
                ends.push(bytes.len() as u32);
            }
            // Offsets past the count (a reused, larger array) are ignored.
            ends.extend(std::iter::repeat_n(0, spare));
            let gathered = GatheredMessages::new(&bytes, &ends, messages.len()).expect("valid");
            let back: Vec<Vec<u8>> = gathered.iter().map(<[u8]>::to_vec).collect();
            prop_assert_eq!(back, messages);
        }
    }
}
