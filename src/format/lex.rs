//! Lexemes shared by the line parsers: fixed-width numbers, clock readings,
//! month names. Each parser module composes these; none re-implements them.

use nom::{
    branch::alt,
    bytes::complete::{take, take_while_m_n},
    character::complete::char,
    combinator::{map_opt, opt},
    sequence::preceded,
    IResult,
};

/// Exactly `n` ASCII digits as a number.
pub fn fixed_digits(n: usize) -> impl Fn(&[u8]) -> IResult<&[u8], u32> {
    move |i| {
        map_opt(
            take_while_m_n(n, n, |c: u8| c.is_ascii_digit()),
            ascii_number,
        )(i)
    }
}

/// One or more ASCII digits (at most 10) as a number.
pub fn number(i: &[u8]) -> IResult<&[u8], u32> {
    map_opt(
        take_while_m_n(1, 10, |c: u8| c.is_ascii_digit()),
        ascii_number,
    )(i)
}

fn ascii_number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// A time of day `hh:mm:ss` with an optional `.fraction` (1–9 digits),
/// as `(hour, minute, second, nanos)`.
pub fn clock(i: &[u8]) -> IResult<&[u8], (u32, u32, u32, u32)> {
    let (i, hour) = fixed_digits(2)(i)?;
    let (i, minute) = preceded(char(':'), fixed_digits(2))(i)?;
    let (i, second) = preceded(char(':'), fixed_digits(2))(i)?;
    let (i, nanos) = opt(preceded(alt((char('.'), char(','))), fraction))(i)?;
    if hour > 23 || minute > 59 || second > 60 {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    Ok((i, (hour, minute, second, nanos.unwrap_or(0))))
}

/// Fractional seconds as nanoseconds; digits past the ninth are dropped.
fn fraction(i: &[u8]) -> IResult<&[u8], u32> {
    let (rest, digits) = take_while_m_n(1, 12, |c: u8| c.is_ascii_digit())(i)?;
    let nanos = digits
        .iter()
        .chain(std::iter::repeat(&b'0'))
        .take(9)
        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    Ok((rest, nanos))
}

/// An English three-letter month abbreviation (`Jan`…`Dec`) as 1–12.
pub fn month_name(i: &[u8]) -> IResult<&[u8], u32> {
    map_opt(take(3usize), |m: &[u8]| {
        const MONTHS: [&[u8; 3]; 12] = [
            b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
            b"Dec",
        ];
        MONTHS
            .iter()
            .position(|name| name[..] == *m)
            .map(|p| p as u32 + 1)
    })(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_fractions_of_any_precision() {
        assert_eq!(
            clock(b"11:03:37.635343 x").unwrap().1,
            (11, 3, 37, 635_343_000)
        );
        assert_eq!(clock(b"00:10:24").unwrap().1, (0, 10, 24, 0));
        assert_eq!(clock(b"10:47:56,381").unwrap().1, (10, 47, 56, 381_000_000));
        assert_eq!(
            clock(b"00:10:24.148458112999").unwrap().1,
            (0, 10, 24, 148_458_112)
        );
        assert!(clock(b"25:00:00").is_err());
        assert!(clock(b"1:00:00").is_err());
    }

    #[test]
    fn months_are_english_abbreviations() {
        assert_eq!(month_name(b"May  2").unwrap().1, 5);
        assert_eq!(month_name(b"Dec").unwrap().1, 12);
        assert!(month_name(b"may").is_err());
    }
}
