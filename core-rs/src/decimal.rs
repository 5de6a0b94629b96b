//! Exact decimal numbers for prices and quantities: parse, compare, add, multiply and format without binary rounding.

use crate::swar::{digit_run, first_lane, lane_byte, leading_digits, non_digits, word_at, POW10 as SMALL_POW10};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// Largest number of digits after the decimal point a value may carry.
///
/// Binance strings carry at most 8; products of two such values carry 16. 30 leaves room and
/// still lets [`Decimal::cmp`] align any fraction inside an `i128`.
pub const MAX_SCALE: u8 = 30;

/// Longest decimal string [`Decimal::parse`] accepts (sign, digits and point).
pub const MAX_TEXT_LEN: usize = 64;

const POW10: [i128; 39] = {
    let mut table = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// `10^exp` as an `i128`, or `None` when it does not fit.
pub fn pow10(exp: u32) -> Option<i128> {
    POW10.get(exp as usize).copied()
}

/// Why a decimal string or operation was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("empty decimal")]
    Empty,
    #[error("decimal text longer than {MAX_TEXT_LEN} bytes")]
    TooLong,
    #[error("invalid character {found:?} at byte {at} in decimal")]
    InvalidChar { found: char, at: usize },
    #[error("decimal has no digits before or after its point")]
    MissingDigits,
    #[error("decimal has more than {MAX_SCALE} digits after the point")]
    ScaleTooLarge,
    #[error("decimal is out of range")]
    Overflow,
    #[error("step must be positive")]
    NonPositiveStep,
    #[error("division by zero")]
    DivisionByZero,
}

/// An exact decimal: `mantissa × 10^-scale`.
///
/// The scale a value was parsed with is kept, so formatting gives back the exchange's own string
/// (`"7.6110"` stays `"7.6110"`), while comparison and hashing are by numeric value
/// (`7.6110 == 7.611`). Negative zero is not kept: `"-0.0"` formats as `"0.0"`.
///
/// Packed without padding: 17 bytes instead of the 32 an `i128`'s 16-byte alignment pads it to.
/// A kline holds eight and every record is copied several times a hub turn (decode, merge, the
/// turn's list), so a `Kline` is 208 bytes instead of 336 (docs/benchmarks-journal.md); x86-64 and
/// AArch64 load unaligned words at no extra cost. Fields are only ever read by value (a reference
/// to a packed field does not compile).
#[derive(Clone, Copy, Debug, Default)]
#[repr(Rust, packed(1))]
pub struct Decimal {
    mantissa: i128,
    scale: u8,
}

const _: () = assert!(std::mem::size_of::<Decimal>() == 17);

impl Decimal {
    /// Zero with no digits after the point.
    pub const ZERO: Decimal = Decimal { mantissa: 0, scale: 0 };

    /// Builds `mantissa × 10^-scale`.
    pub fn new(mantissa: i128, scale: u8) -> Result<Decimal, DecimalError> {
        if scale > MAX_SCALE {
            return Err(DecimalError::ScaleTooLarge);
        }
        Ok(Decimal { mantissa, scale })
    }

    /// An integer value with scale 0.
    pub const fn from_int(value: i64) -> Decimal {
        Decimal {
            mantissa: value as i128,
            scale: 0,
        }
    }

    /// Parses a plain decimal string as Binance sends it: an optional `-`, digits, and optionally a
    /// point followed by digits. No exponent, no `+`, no surrounding spaces.
    #[inline(always)]
    pub fn parse(text: &str) -> Result<Decimal, DecimalError> {
        Self::parse_bytes(text.as_bytes())
    }

    /// [`Decimal::parse`] over raw bytes.
    #[inline(always)]
    pub fn parse_bytes(bytes: &[u8]) -> Result<Decimal, DecimalError> {
        match Self::parse_short(bytes) {
            Some(value) => Ok(value),
            None => Self::parse_general(bytes),
        }
    }

    /// The checked parse every input can take; [`Decimal::parse_short`] is its fast subset.
    #[inline(never)]
    fn parse_general(bytes: &[u8]) -> Result<Decimal, DecimalError> {
        if bytes.is_empty() {
            return Err(DecimalError::Empty);
        }
        if bytes.len() > MAX_TEXT_LEN {
            return Err(DecimalError::TooLong);
        }
        let (negative, digits) = match bytes[0] {
            b'-' => (true, &bytes[1..]),
            _ => (false, bytes),
        };
        let offset = bytes.len() - digits.len();
        let mut mantissa: i128 = 0;
        let mut scale: u32 = 0;
        let mut seen_point = false;
        let mut int_digits = 0usize;
        for (i, &b) in digits.iter().enumerate() {
            match b {
                b'0'..=b'9' => {
                    mantissa = mantissa
                        .checked_mul(10)
                        .and_then(|m| m.checked_add(i128::from(b - b'0')))
                        .ok_or(DecimalError::Overflow)?;
                    if seen_point {
                        scale += 1;
                    } else {
                        int_digits += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => {
                    let found = std::str::from_utf8(&bytes[offset + i..])
                        .ok()
                        .and_then(|s| s.chars().next())
                        .unwrap_or(char::REPLACEMENT_CHARACTER);
                    return Err(DecimalError::InvalidChar { found, at: offset + i });
                }
            }
        }
        if int_digits == 0 || (seen_point && scale == 0) {
            return Err(DecimalError::MissingDigits);
        }
        if scale > u32::from(MAX_SCALE) {
            return Err(DecimalError::ScaleTooLarge);
        }
        Ok(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            scale: scale as u8,
        })
    }

    /// The common case of [`Decimal::parse_bytes`], read a word at a time: an optional `-`, up
    /// to 15 digits, and optionally a point followed by up to 15 digits. The mantissa is below
    /// `10^30`, so nothing can overflow. `None` for anything else, which the general path parses
    /// or rejects with its precise error; where this returns a value, the general path returns
    /// the same one.
    #[inline(always)]
    fn parse_short(bytes: &[u8]) -> Option<Decimal> {
        match Self::parse_within(bytes, 0, bytes.len()) {
            Some(value) => Some(value),
            None => Self::parse_runs(bytes),
        }
    }

    /// [`Decimal::parse_short`] for longer digit runs (up to 15 on each side of the point).
    #[inline(never)]
    fn parse_runs(bytes: &[u8]) -> Option<Decimal> {
        let (negative, digits) = match bytes.split_first()? {
            (b'-', rest) => (true, rest),
            _ => (false, bytes),
        };
        let (int, int_len) = digit_run(digits, 0)?;
        if int_len == 0 {
            return None;
        }
        let (mantissa, scale) = if int_len == digits.len() {
            (i128::from(int), 0)
        } else {
            if digits.get(int_len) != Some(&b'.') {
                return None;
            }
            let (fraction, scale) = digit_run(digits, int_len + 1)?;
            // At least one digit after the point, and nothing after the digits.
            if scale == 0 || int_len + 1 + scale != digits.len() {
                return None;
            }
            (i128::from(int) * POW10[scale] + i128::from(fraction), scale)
        };
        Some(Decimal::signed(negative, mantissa, scale as u8))
    }

    /// [`Decimal::parse_bytes`] of `bytes[start..end]` for the commonest shape, in a few word
    /// reads: an optional `-`, one to seven digits, and optionally a point followed by one to
    /// fifteen digits. The reads may cover bytes of `bytes` after `end` (a scanner's message),
    /// which never change the result. `None` for any other text or range.
    #[inline(always)]
    pub(crate) fn parse_within(bytes: &[u8], start: usize, end: usize) -> Option<Decimal> {
        let negative = bytes.get(start) == Some(&b'-');
        let at = start + usize::from(negative);
        let len = end.checked_sub(at)?;
        let word = word_at(bytes, at);
        let int_len = first_lane(non_digits(word)).min(len);
        // Eight digits may go on in the next word: left to the longer readers.
        if int_len == 0 || int_len == 8 {
            return None;
        }
        let int = leading_digits(word, int_len);
        if int_len == len {
            return Some(Decimal::signed(negative, i128::from(int), 0));
        }
        if lane_byte(word, int_len) != b'.' {
            return None;
        }
        let scale = len - int_len - 1;
        let fraction_at = at + int_len + 1;
        let word = word_at(bytes, fraction_at);
        let run = first_lane(non_digits(word));
        let fraction = if scale <= 8 {
            if scale == 0 || run < scale {
                return None;
            }
            leading_digits(word, scale)
        } else {
            let rest = scale - 8;
            let next = word_at(bytes, fraction_at + 8);
            if run < 8 || rest > 7 || first_lane(non_digits(next)) < rest {
                return None;
            }
            leading_digits(word, 8) * SMALL_POW10[rest] + leading_digits(next, rest)
        };
        let mantissa = i128::from(int) * POW10[scale] + i128::from(fraction);
        Some(Decimal::signed(negative, mantissa, scale as u8))
    }

    /// `±mantissa × 10^-scale` for the readers above (negative zero is plain zero).
    #[inline(always)]
    fn signed(negative: bool, mantissa: i128, scale: u8) -> Decimal {
        Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            scale,
        }
    }

    /// The integer `m` of `m × 10^-scale`.
    pub const fn mantissa(&self) -> i128 {
        self.mantissa
    }

    /// Digits after the point.
    pub const fn scale(&self) -> u8 {
        self.scale
    }

    pub const fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    pub const fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    pub const fn is_positive(&self) -> bool {
        self.mantissa > 0
    }

    /// The absolute value, same scale.
    pub fn abs(&self) -> Decimal {
        Decimal {
            mantissa: self.mantissa.abs(),
            scale: self.scale,
        }
    }

    /// The negated value, same scale.
    pub fn neg(&self) -> Decimal {
        Decimal {
            mantissa: -self.mantissa,
            scale: self.scale,
        }
    }

    /// The same value with trailing zeros after the point removed (`"1.2300"` → `"1.23"`).
    pub fn normalized(&self) -> Decimal {
        let mut d = *self;
        while d.scale > 0 && d.mantissa % 10 == 0 {
            d.mantissa /= 10;
            d.scale -= 1;
        }
        d
    }

    /// The same value at a larger scale (`1.2` at scale 3 → `"1.200"`); `None` when the scale is
    /// smaller than the current one or the result overflows.
    pub fn with_scale(&self, scale: u8) -> Option<Decimal> {
        if scale == self.scale {
            return Some(*self);
        }
        if scale < self.scale || scale > MAX_SCALE {
            return None;
        }
        let factor = pow10(u32::from(scale - self.scale))?;
        Some(Decimal {
            mantissa: self.mantissa.checked_mul(factor)?,
            scale,
        })
    }

    /// Both mantissas at the larger of the two scales.
    fn aligned(&self, other: &Decimal) -> Option<(i128, i128, u8)> {
        let scale = self.scale.max(other.scale);
        let a = self.with_scale(scale)?.mantissa;
        let b = other.with_scale(scale)?.mantissa;
        Some((a, b, scale))
    }

    /// Adds `other`, which has this value's scale, in place; the caller has proved that the sum
    /// fits (the aggregator's sum bounds do). Checked in debug builds: a wrong proof panics in
    /// the tests instead of wrapping.
    #[inline(always)]
    pub(crate) fn add_assign_proven(&mut self, other: &Decimal) {
        debug_assert_eq!(self.scale, other.scale, "add_assign_proven needs equal scales");
        debug_assert!(
            self.mantissa.checked_add(other.mantissa).is_some(),
            "add_assign_proven overflowed"
        );
        self.mantissa = self.mantissa.wrapping_add(other.mantissa);
    }

    /// Exact sum, at the larger scale of the two; `None` on overflow.
    #[inline]
    pub fn checked_add(&self, other: &Decimal) -> Option<Decimal> {
        // Sums in a bar nearly always share a scale: skip the alignment multiply.
        if self.scale == other.scale {
            return Some(Decimal {
                mantissa: self.mantissa.checked_add(other.mantissa)?,
                scale: self.scale,
            });
        }
        self.add_aligned(other)
    }

    #[inline(never)]
    fn add_aligned(&self, other: &Decimal) -> Option<Decimal> {
        let (a, b, scale) = self.aligned(other)?;
        Some(Decimal {
            mantissa: a.checked_add(b)?,
            scale,
        })
    }

    /// Exact difference, at the larger scale of the two; `None` on overflow.
    pub fn checked_sub(&self, other: &Decimal) -> Option<Decimal> {
        if self.scale == other.scale {
            return Some(Decimal {
                mantissa: self.mantissa.checked_sub(other.mantissa)?,
                scale: self.scale,
            });
        }
        let (a, b, scale) = self.aligned(other)?;
        Some(Decimal {
            mantissa: a.checked_sub(b)?,
            scale,
        })
    }

    /// Exact product, at the sum of the scales; `None` on overflow or a scale above [`MAX_SCALE`].
    pub fn checked_mul(&self, other: &Decimal) -> Option<Decimal> {
        let scale = self.scale.checked_add(other.scale)?;
        if scale > MAX_SCALE {
            return None;
        }
        Some(Decimal {
            mantissa: self.mantissa.checked_mul(other.mantissa)?,
            scale,
        })
    }

    /// Exact half (`(a + b).half()` is an exact midpoint); the scale grows by one.
    pub fn half(&self) -> Option<Decimal> {
        if self.mantissa % 2 == 0 {
            return Some(Decimal {
                mantissa: self.mantissa / 2,
                scale: self.scale,
            });
        }
        if self.scale >= MAX_SCALE {
            return None;
        }
        Some(Decimal {
            mantissa: self.mantissa.checked_mul(5)?,
            scale: self.scale + 1,
        })
    }

    /// `self / divisor` rounded half-to-even to `scale` digits. Used for derived values such as
    /// VWAP, which are not exact in general.
    pub fn div_rounded(&self, divisor: &Decimal, scale: u8) -> Result<Decimal, DecimalError> {
        if divisor.is_zero() {
            return Err(DecimalError::DivisionByZero);
        }
        if scale > MAX_SCALE {
            return Err(DecimalError::ScaleTooLarge);
        }
        // value = (a / 10^sa) / (b / 10^sb); want round(value × 10^scale) = round(a × 10^(sb+scale-sa) / b).
        let exp = i32::from(divisor.scale) + i32::from(scale) - i32::from(self.scale);
        let (mut num, mut den) = (self.mantissa, divisor.mantissa);
        if exp >= 0 {
            num = num
                .checked_mul(pow10(exp as u32).ok_or(DecimalError::Overflow)?)
                .ok_or(DecimalError::Overflow)?;
        } else {
            den = den
                .checked_mul(pow10((-exp) as u32).ok_or(DecimalError::Overflow)?)
                .ok_or(DecimalError::Overflow)?;
        }
        if den < 0 {
            num = -num;
            den = -den;
        }
        let quotient = num.div_euclid(den);
        let remainder = num.rem_euclid(den);
        let twice = remainder.checked_mul(2).ok_or(DecimalError::Overflow)?;
        let round_up = match twice.cmp(&den) {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => quotient % 2 != 0,
        };
        let mantissa = if round_up { quotient + 1 } else { quotient };
        Ok(Decimal { mantissa, scale })
    }

    /// How many whole `step`s fit in `self`, rounding toward negative infinity.
    pub fn steps_floor(&self, step: &Decimal) -> Result<i128, DecimalError> {
        if !step.is_positive() {
            return Err(DecimalError::NonPositiveStep);
        }
        let (a, b, _) = self.aligned(step).ok_or(DecimalError::Overflow)?;
        Ok(a.div_euclid(b))
    }

    /// `steps × step`, expressed at the step's scale (a multiple of a step is always exact there).
    pub fn from_steps(steps: i128, step: &Decimal) -> Result<Decimal, DecimalError> {
        let mantissa = steps.checked_mul(step.mantissa).ok_or(DecimalError::Overflow)?;
        Ok(Decimal {
            mantissa,
            scale: step.scale,
        })
    }

    /// The largest multiple of `step` not above `self` (quantities, buy prices).
    pub fn snap_down(&self, step: &Decimal) -> Result<Decimal, DecimalError> {
        Self::from_steps(self.steps_floor(step)?, step)
    }

    /// The smallest multiple of `step` not below `self` (sell prices).
    pub fn snap_up(&self, step: &Decimal) -> Result<Decimal, DecimalError> {
        let floor = self.steps_floor(step)?;
        let down = Self::from_steps(floor, step)?;
        if down == *self {
            Ok(down)
        } else {
            Self::from_steps(floor + 1, step)
        }
    }

    /// True when `self` is a whole multiple of `step`.
    pub fn is_multiple_of(&self, step: &Decimal) -> Result<bool, DecimalError> {
        Ok(self.snap_down(step)? == *self)
    }

    /// The nearest `f64` (for indicator maths in views; never for money decisions).
    pub fn to_f64(&self) -> f64 {
        match i64::try_from(self.mantissa) {
            Ok(mantissa) if exact_quotient(mantissa, self.scale) => quotient(mantissa, self.scale),
            _ => self.to_string().parse().unwrap_or(f64::NAN),
        }
    }

    /// Writes the exact decimal text into `out` (no allocation beyond `out`'s growth).
    pub fn write_to(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "{self}");
    }
}

/// Powers of ten exact in `f64` (10^22 is the last).
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// True when `mantissa` and `10^scale` are both exact in `f64`, so one division is correctly rounded.
fn exact_quotient(mantissa: i64, scale: u8) -> bool {
    mantissa.unsigned_abs() < (1u64 << 53) && usize::from(scale) < EXACT_POWERS_OF_TEN.len()
}

fn quotient(mantissa: i64, scale: u8) -> f64 {
    mantissa as f64 / EXACT_POWERS_OF_TEN[usize::from(scale)]
}

/// The nearest `f64` to `mantissa × 10^-scale`: what [`Decimal::to_f64`] gives for that decimal,
/// without building it (a wire form's mantissa and scale).
pub fn mantissa_to_f64(mantissa: i64, scale: u8) -> f64 {
    if exact_quotient(mantissa, scale) {
        return quotient(mantissa, scale);
    }
    Decimal::new(i128::from(mantissa), scale).map_or(f64::NAN, |d| d.to_f64())
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 48];
        let mut pos = buf.len();
        let mut magnitude = self.mantissa.unsigned_abs();
        let mut written = 0u8;
        loop {
            if written == self.scale && self.scale > 0 {
                pos -= 1;
                buf[pos] = b'.';
            }
            pos -= 1;
            buf[pos] = b'0' + (magnitude % 10) as u8;
            magnitude /= 10;
            written = written.saturating_add(1);
            if magnitude == 0 && written > self.scale {
                break;
            }
        }
        if self.mantissa < 0 {
            pos -= 1;
            buf[pos] = b'-';
        }
        // Only ASCII digits, '.' and '-' were written.
        f.write_str(std::str::from_utf8(&buf[pos..]).map_err(|_| fmt::Error)?)
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::parse(s)
    }
}

impl Ord for Decimal {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        // Values of one column nearly always share a scale: one integer comparison.
        if self.scale == other.scale {
            let (a, b) = (self.mantissa, other.mantissa);
            return a.cmp(&b);
        }
        cmp_scaled(self, other)
    }
}

/// Compares values of different scales: integer parts, then fractions aligned to MAX_SCALE
/// digits; neither step can overflow, whatever the two scales are.
#[inline(never)]
fn cmp_scaled(a: &Decimal, b: &Decimal) -> Ordering {
    let (ai, af) = split(a);
    let (bi, bf) = split(b);
    ai.cmp(&bi).then(af.cmp(&bf))
}

/// Integer part and the fraction scaled to `MAX_SCALE` digits, both truncated toward zero.
fn split(d: &Decimal) -> (i128, i128) {
    let unit = POW10[d.scale as usize];
    let int = d.mantissa / unit;
    let frac = d.mantissa % unit;
    (int, frac * POW10[(MAX_SCALE - d.scale) as usize])
}

impl PartialOrd for Decimal {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Decimal {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl Hash for Decimal {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let n = self.normalized();
        let (mantissa, scale) = (n.mantissa, n.scale);
        mantissa.hash(state);
        scale.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn parses_and_formats_exchange_strings() {
        for s in [
            "0",
            "7.6110",
            "0.00000001",
            "-12.50",
            "79972.8",
            "1000",
            "0.0",
            "123456789012345678.12345678",
        ] {
            assert_eq!(d(s).to_string(), s);
        }
        assert_eq!(d("-0.000").to_string(), "0.000");
    }

    #[test]
    fn rejects_malformed_text() {
        assert_eq!(Decimal::parse(""), Err(DecimalError::Empty));
        assert_eq!(Decimal::parse("-"), Err(DecimalError::MissingDigits));
        assert_eq!(Decimal::parse(".5"), Err(DecimalError::MissingDigits));
        assert_eq!(Decimal::parse("5."), Err(DecimalError::MissingDigits));
        assert!(matches!(
            Decimal::parse("1e5"),
            Err(DecimalError::InvalidChar { found: 'e', at: 1 })
        ));
        assert!(matches!(
            Decimal::parse("+1"),
            Err(DecimalError::InvalidChar { found: '+', at: 0 })
        ));
        assert!(matches!(
            Decimal::parse("1.2.3"),
            Err(DecimalError::InvalidChar { found: '.', at: 3 })
        ));
        assert!(matches!(Decimal::parse(" 1"), Err(DecimalError::InvalidChar { .. })));
        assert!(matches!(
            Decimal::parse("1,5"),
            Err(DecimalError::InvalidChar { found: ',', .. })
        ));
        assert_eq!(Decimal::parse(&"9".repeat(65)), Err(DecimalError::TooLong));
        assert_eq!(Decimal::parse(&"9".repeat(40)), Err(DecimalError::Overflow));
        assert_eq!(
            Decimal::parse(&format!("0.{}", "1".repeat(31))),
            Err(DecimalError::ScaleTooLarge)
        );
    }

    #[test]
    fn compares_by_value() {
        assert_eq!(d("7.6110"), d("7.611"));
        assert!(d("-1.5") < d("-1.2"));
        assert!(d("-0.5") < d("0.3"));
        assert!(d("-0.5") > d("-1"));
        assert!(d("0.00000001") > d("0"));
        assert!(d("100") > d("99.999999999999999999999999999"));
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(d("0.1").checked_add(&d("0.2")).unwrap().to_string(), "0.3");
        assert_eq!(
            d("7.6110")
                .checked_add(&d("7.6120"))
                .unwrap()
                .half()
                .unwrap()
                .to_string(),
            "7.6115"
        );
        assert_eq!(d("79972.8").checked_mul(&d("542.0")).unwrap(), d("43345257.6"));
        assert_eq!(d("1").checked_sub(&d("1.5")).unwrap().to_string(), "-0.5");
    }

    #[test]
    fn division_rounds_half_to_even() {
        assert_eq!(d("1").div_rounded(&d("3"), 4).unwrap().to_string(), "0.3333");
        assert_eq!(d("2").div_rounded(&d("3"), 4).unwrap().to_string(), "0.6667");
        assert_eq!(d("0.125").div_rounded(&d("1"), 2).unwrap().to_string(), "0.12");
        assert_eq!(d("0.135").div_rounded(&d("1"), 2).unwrap().to_string(), "0.14");
        assert_eq!(d("-1").div_rounded(&d("3"), 2).unwrap().to_string(), "-0.33");
        assert_eq!(d("1").div_rounded(&d("-8"), 2).unwrap().to_string(), "-0.12");
        assert_eq!(d("1").div_rounded(&d("0.0"), 2), Err(DecimalError::DivisionByZero));
    }

    #[test]
    fn snaps_to_steps_in_integer_ticks() {
        // The seed's float loop failed for a step of 0.5.
        assert_eq!(d("10.74").snap_down(&d("0.5")).unwrap().to_string(), "10.5");
        assert_eq!(d("10.74").snap_up(&d("0.5")).unwrap().to_string(), "11.0");
        assert_eq!(d("10.5").snap_up(&d("0.5")).unwrap().to_string(), "10.5");
        assert_eq!(d("0.0019").snap_down(&d("0.001")).unwrap().to_string(), "0.001");
        assert_eq!(d("-1.25").snap_down(&d("0.1")).unwrap().to_string(), "-1.3");
        assert_eq!(d("7.6113").snap_up(&d("0.0010")).unwrap().to_string(), "7.6120");
        assert!(d("12.30").is_multiple_of(&d("0.1")).unwrap());
        assert_eq!(d("1").snap_down(&d("0")), Err(DecimalError::NonPositiveStep));
    }

    #[test]
    fn converts_to_nearest_f64() {
        assert_eq!(d("0.1").to_f64(), 0.1);
        assert_eq!(d("79972.8").to_f64(), 79972.8);
        assert_eq!(d("-7.6110").to_f64(), -7.611);
    }

    fn decimal_text() -> impl Strategy<Value = String> {
        (any::<bool>(), "[1-9][0-9]{0,17}|0", proptest::option::of("[0-9]{1,12}")).prop_map(|(neg, int, frac)| {
            let body = match frac {
                Some(f) => format!("{int}.{f}"),
                None => int,
            };
            let is_zero = body.bytes().all(|b| b == b'0' || b == b'.');
            if neg && !is_zero {
                format!("-{body}")
            } else {
                body
            }
        })
    }

    /// The nearest f64 by way of the decimal text (Rust's float parse is correctly rounded).
    fn f64_by_text(mantissa: i64, scale: u8) -> f64 {
        Decimal::new(i128::from(mantissa), scale)
            .unwrap()
            .to_string()
            .parse()
            .unwrap()
    }

    #[test]
    fn mantissa_to_f64_is_the_nearest_f64_at_the_edges() {
        let edges = [
            0,
            1,
            -1,
            (1 << 53) - 1,
            1 << 53,
            -(1 << 53) + 1,
            -(1 << 53),
            i64::MAX,
            i64::MIN,
        ];
        for mantissa in edges {
            for scale in [0, 1, 8, 21, 22, 23, MAX_SCALE] {
                let expected = f64_by_text(mantissa, scale);
                assert_eq!(mantissa_to_f64(mantissa, scale), expected, "{mantissa} e-{scale}");
                let decimal = Decimal::new(i128::from(mantissa), scale).unwrap();
                assert_eq!(decimal.to_f64(), expected, "{mantissa} e-{scale}");
            }
        }
        assert!(mantissa_to_f64(1, MAX_SCALE + 1).is_nan());
    }

    proptest! {
        #[test]
        fn mantissa_to_f64_agrees_with_the_decimal_text(mantissa in any::<i64>(), small in -(1i64 << 53)..(1i64 << 53), scale in 0u8..=MAX_SCALE) {
            prop_assert_eq!(mantissa_to_f64(mantissa, scale), f64_by_text(mantissa, scale));
            prop_assert_eq!(mantissa_to_f64(small, scale), f64_by_text(small, scale));
        }

        #[test]
        fn short_path_agrees_with_the_general_parse(text in "-?[0-9.]{0,35}|[0-9+e .-]{0,8}|-?0*[0-9]{0,16}[.]?[0-9]{0,17}") {
            if let Some(fast) = Decimal::parse_short(text.as_bytes()) {
                let general = Decimal::parse_general(text.as_bytes());
                prop_assert_eq!(Ok((fast.mantissa(), fast.scale())), general.map(|d| (d.mantissa(), d.scale())));
            }
        }

        #[test]
        fn short_path_takes_exchange_values(text in decimal_text(), pad in "[0-9.]{0,8}") {
            // The word reads stop at the end of the text, whatever follows it in memory.
            let padded = format!("{text}{pad}");
            let fast = Decimal::parse_short(&padded.as_bytes()[..text.len()]);
            let digits = text.bytes().filter(u8::is_ascii_digit).count();
            let runs_fit = text.trim_start_matches('-').split('.').all(|run| run.len() < 16);
            prop_assert_eq!(fast.is_some(), runs_fit, "{} ({} digits)", text, digits);
            if let Some(fast) = fast {
                let general = Decimal::parse_general(text.as_bytes()).unwrap();
                prop_assert_eq!((fast.mantissa(), fast.scale()), (general.mantissa(), general.scale()));
            }
        }

        #[test]
        fn parse_within_agrees_with_the_general_parse(
            bytes in proptest::collection::vec(
                prop_oneof![3 => proptest::sample::select(b"0123456789".to_vec()), 1 => proptest::sample::select(b".-".to_vec()), 1 => any::<u8>()],
                0..28,
            ),
            start in 0usize..30,
            end in 0usize..30,
        ) {
            // Any range, in or out of the buffer; the bytes around it must not matter.
            if let Some(fast) = Decimal::parse_within(&bytes, start, end) {
                let general = Decimal::parse_general(&bytes[start..end]);
                prop_assert_eq!(Ok((fast.mantissa(), fast.scale())), general.map(|d| (d.mantissa(), d.scale())));
            }
        }

        #[test]
        fn text_round_trips(text in decimal_text()) {
            prop_assert_eq!(Decimal::parse(&text).unwrap().to_string(), text);
        }

        #[test]
        fn order_matches_rational_order(a in decimal_text(), b in decimal_text()) {
            let (x, y) = (d(&a), d(&b));
            let diff = x.checked_sub(&y).unwrap();
            prop_assert_eq!(x.cmp(&y), diff.mantissa().cmp(&0));
            prop_assert_eq!(x.normalized().to_string() == y.normalized().to_string(), x == y);
        }

        #[test]
        fn add_then_sub_is_identity(a in decimal_text(), b in decimal_text()) {
            let (x, y) = (d(&a), d(&b));
            prop_assert_eq!(x.checked_add(&y).unwrap().checked_sub(&y).unwrap(), x);
        }

        #[test]
        fn snapping_brackets_the_value(v in decimal_text(), step_ticks in 1i128..5000, step_scale in 0u8..6) {
            let step = Decimal::new(step_ticks, step_scale).unwrap();
            let x = d(&v);
            let down = x.snap_down(&step).unwrap();
            let up = x.snap_up(&step).unwrap();
            prop_assert!(down <= x && x <= up);
            prop_assert!(up.checked_sub(&down).unwrap() <= step);
            prop_assert!(down.is_multiple_of(&step).unwrap() && up.is_multiple_of(&step).unwrap());
            prop_assert_eq!(down.scale(), step.scale());
        }
    }
}
