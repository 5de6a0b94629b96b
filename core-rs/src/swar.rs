//! Word-at-a-time (SWAR) byte helpers shared by the fast JSON scanners and the decimal parser.
//!
//! Eight bytes of a text in a `u64`, first byte lowest, and masks with the top bit of each byte
//! ("lane") set where that byte matches. Each mask may also flag lanes above the first match
//! (borrows propagate upwards), never below it, so only the lowest flagged lane is used.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// `10^n` for every `n` whose power fits a `u64`.
pub(crate) const POW10: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// The eight bytes at `at`; past the end of the text the missing bytes read as 0, which every
/// mask flags (a control byte ends a string, a non-digit ends a number), so a scan stops there.
#[inline(always)]
pub(crate) fn word_at(bytes: &[u8], at: usize) -> u64 {
    if let Some(chunk) = bytes.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
        return u64::from_le_bytes(*chunk);
    }
    short_tail(bytes.get(at..).unwrap_or_default())
}

/// The fewer than eight bytes of `rest`, zero-padded, from at most two overlapping loads (no
/// byte copy loop): the end of a text.
#[inline(always)]
fn short_tail(rest: &[u8]) -> u64 {
    let len = rest.len();
    if let (Some(head), Some(tail)) = (rest.first_chunk::<4>(), rest.last_chunk::<4>()) {
        // 4..=7 bytes: the two loads overlap, and overlapping lanes hold the same byte.
        let head = u64::from(u32::from_le_bytes(*head));
        let tail = u64::from(u32::from_le_bytes(*tail));
        return head | tail << (8 * (len - 4));
    }
    match rest {
        [] => 0,
        [a] => u64::from(*a),
        [a, b] => u64::from(*a) | u64::from(*b) << 8,
        [a, b, c, ..] => u64::from(*a) | u64::from(*b) << 8 | u64::from(*c) << 16,
    }
}

/// The byte in lane `lane` of `word`; 0 past the word, like the padding of [`word_at`].
#[inline(always)]
pub(crate) fn lane_byte(word: u64, lane: usize) -> u8 {
    (word.checked_shr(8 * lane as u32).unwrap_or(0) & 0xff) as u8
}

/// Index of the lowest flagged lane, or 8 when none is.
#[inline(always)]
pub(crate) fn first_lane(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// Lanes holding a byte that equals `byte`.
#[inline(always)]
pub(crate) fn lanes_equal(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Lanes where a string stops being plain text: `"`, `\` or a control byte (below 0x20).
#[inline(always)]
pub(crate) fn string_stops(word: u64) -> u64 {
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    lanes_equal(word, b'"') | lanes_equal(word, b'\\') | control
}

/// Lanes holding anything but an ASCII digit: below `0` (the subtraction sets the top bit) or
/// above `9` (adding 0x46 reaches the top bit from 0x3a up; bytes from 0x80 have it already or
/// gain it in the subtraction).
#[inline(always)]
pub(crate) fn non_digits(word: u64) -> u64 {
    (word.wrapping_add(ONES * 0x46) | word.wrapping_sub(ONES * 0x30)) & HIGHS
}

/// The number written by the first `count` (1..=8) bytes of `word`, all ASCII digits, most
/// significant first: the digits move to the top lanes with zeros (leading zeros) below, then
/// neighbouring lanes combine into pairs, quads and the whole (no lane overflows).
#[inline(always)]
pub(crate) fn leading_digits(word: u64, count: usize) -> u64 {
    let v = word.wrapping_sub(ONES * u64::from(b'0')) << (8 * (8 - count));
    let v = (v.wrapping_mul(10).wrapping_add(v >> 8)) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100).wrapping_add(v >> 16)) & 0x0000_ffff_0000_ffff;
    (v.wrapping_mul(10_000).wrapping_add(v >> 32)) & 0xffff_ffff
}

/// The run of ASCII digits at `at` in `bytes` (possibly empty) as `(value, length)`, read a word
/// at a time; `None` for runs of 16 digits or more, which the caller reads another way.
#[inline(always)]
pub(crate) fn digit_run(bytes: &[u8], at: usize) -> Option<(u64, usize)> {
    let high = word_at(bytes, at);
    let high_count = first_lane(non_digits(high));
    if high_count < 8 {
        let value = if high_count == 0 {
            0
        } else {
            leading_digits(high, high_count)
        };
        return Some((value, high_count));
    }
    let low = word_at(bytes, at + 8);
    let low_count = first_lane(non_digits(low));
    if low_count == 8 {
        return None;
    }
    let low_value = if low_count == 0 {
        0
    } else {
        leading_digits(low, low_count)
    };
    Some((leading_digits(high, 8) * POW10[low_count] + low_value, 8 + low_count))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic words spread over all byte values, biased to digits and JSON bytes.
    fn words() -> Vec<[u8; 8]> {
        (0u64..20_000)
            .map(|i| {
                let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i >> 3);
                let mut word = [0u8; 8];
                for byte in &mut word {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *byte = match x % 4 {
                        0 => b"0123456789\"\\.,e"[(x >> 8) as usize % 15],
                        _ => (x >> 16) as u8,
                    };
                }
                word
            })
            .collect()
    }

    #[test]
    fn helpers_match_bytewise_definitions() {
        for word in words() {
            let value = u64::from_le_bytes(word);
            let digits = word.iter().take_while(|b| b.is_ascii_digit()).count();
            assert_eq!(first_lane(non_digits(value)), digits, "{word:?}");
            let stop = word
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(8);
            assert_eq!(first_lane(string_stops(value)), stop, "{word:?}");
            if digits > 0 {
                let text = std::str::from_utf8(&word[..digits]).unwrap();
                assert_eq!(leading_digits(value, digits), text.parse::<u64>().unwrap(), "{word:?}");
            }
            for lane in 0..=8 {
                assert_eq!(lane_byte(value, lane), word.get(lane).copied().unwrap_or(0));
            }
        }
    }

    #[test]
    fn words_past_the_end_are_zero_padded() {
        let text = b"0123456789";
        for at in 0..=text.len() + 1 {
            let mut padded = [0u8; 8];
            for (i, slot) in padded.iter_mut().enumerate() {
                *slot = text.get(at + i).copied().unwrap_or(0);
            }
            assert_eq!(word_at(text, at), u64::from_le_bytes(padded), "at {at}");
        }
        for len in 0..8 {
            let rest: Vec<u8> = (1..=len as u8).collect();
            let mut padded = [0u8; 8];
            padded[..len].copy_from_slice(&rest);
            assert_eq!(short_tail(&rest), u64::from_le_bytes(padded), "len {len}");
        }
    }

    #[test]
    fn digit_runs() {
        for text in [
            "",
            "x",
            "0",
            "7.",
            "12345678",
            "123456789",
            "123456789012345",
            "1234567890123456",
        ] {
            let bytes = text.as_bytes();
            let count = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            let expected = (count < 16).then(|| (text[..count].parse::<u64>().unwrap_or(0), count));
            assert_eq!(digit_run(bytes, 0), expected, "{text}");
        }
        for word in words() {
            let mut bytes = word.to_vec();
            bytes.extend_from_slice(&word);
            let count = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            let text = std::str::from_utf8(&bytes[..count]).unwrap();
            let expected = (count < 16).then(|| (text.parse::<u64>().unwrap_or(0), count));
            assert_eq!(digit_run(&bytes, 0), expected, "{bytes:?}");
        }
    }
}
