//! How report values print inside the page: escaped text ([`Esc`]), times
//! for reading ([`When`], [`Span`]), retry periods, and long IDs shortened
//! with the full value at hand ([`Id`], [`shorten`]).

use std::fmt;

use chrono::{DateTime, FixedOffset};

use crate::report::text::{human_duration, seconds};

/// Container IDs and other long hex values are shown by this many digits,
/// the full value in a tooltip (as `docker ps` does).
const SHORT_ID: usize = 12;

/// A report time (RFC 3339) as an instant, to compare and place times that
/// carry different offsets.
pub(super) fn instant(ts: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(ts).ok()
}

/// Text made inert in element content and in quoted attribute values:
/// markup characters become entities, control characters their visible
/// Unicode pictures (ESC shows as ␛), and bidirectional overrides, which
/// could make a line read differently from what it says, become �.
pub(super) struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                '\t' => f.write_char(c)?,
                '\u{0}'..='\u{1f}' => {
                    f.write_char(char::from_u32(0x2400 + c as u32).unwrap_or('?'))?
                }
                '\u{7f}' => f.write_char('\u{2421}')?,
                '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => f.write_char('\u{fffd}')?,
                c if c.is_control() => f.write_char('\u{fffd}')?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// A report time for reading (`2023-05-01 10:48:02 +08:00`), in a `<time>`
/// element that keeps the exact instant.
pub(super) struct When<'a>(pub &'a str);

impl fmt::Display for When<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A time on an input's own clock (`+8123.0 s after boot`) is no
        // instant a `<time>` element could carry.
        if instant(self.0).is_none() {
            return write!(f, "<span class=\"reltime\">{}</span>", Esc(self.0));
        }
        write!(
            f,
            "<time datetime=\"{}\">{}</time>",
            Esc(self.0),
            Esc(&readable_time(self.0))
        )
    }
}

/// `2023-05-01T10:48:02.6+08:00` → `2023-05-01 10:48:02 +08:00`.
pub(super) fn readable_time(ts: &str) -> String {
    let ts = seconds(ts);
    let Some((date, time)) = ts.split_once('T') else {
        return ts;
    };
    match time.find(['+', '-', 'Z']) {
        Some(z) if &time[z..] == "Z" => format!("{date} {} UTC", &time[..z]),
        Some(z) => format!("{date} {} {}", &time[..z], &time[z..]),
        None => format!("{date} {time}"),
    }
}

/// The time between two report times, for reading (`13h24m`).
pub(super) struct Span<'a>(pub &'a str, pub &'a str);

impl fmt::Display for Span<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (instant(self.0), instant(self.1)) {
            (Some(a), Some(b)) => f.write_str(&human_duration((b - a).num_seconds())),
            _ => Ok(()),
        }
    }
}

/// A retry period: seconds as measured under a minute (`10.9s`), else
/// minutes and seconds (`9m51s`).
pub(super) fn period(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds}s")
    } else {
        human_duration(seconds.round() as i64)
    }
}

/// A value that may be a long hex ID: shortened, the full value in a
/// tooltip.
pub(super) struct Id<'a>(pub &'a str);

impl fmt::Display for Id<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_long_hex(self.0) {
            write!(
                f,
                "<code title=\"{}\">{}</code>",
                Esc(self.0),
                &self.0[..SHORT_ID]
            )
        } else {
            write!(f, "<code>{}</code>", Esc(self.0))
        }
    }
}

/// Text whose long hex words (container IDs in a subject such as
/// `container a9acd521…`) are cut to their first digits and an ellipsis.
pub(super) fn shorten(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if is_long_hex(word) {
                format!("{}…", &word[..SHORT_ID])
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_long_hex(s: &str) -> bool {
    s.len() > SHORT_ID + 4 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_is_inert_in_content_and_attributes() {
        assert_eq!(
            Esc("<script>alert('x')</script> & \"q\" \x1b[31m\x07\u{202e}").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; ␛[31m␇\u{fffd}"
        );
    }

    #[test]
    fn times_read_without_fractions_and_keep_their_offset() {
        assert_eq!(
            readable_time("2023-05-01T10:48:02.621505552+08:00"),
            "2023-05-01 10:48:02 +08:00"
        );
        assert_eq!(
            readable_time("2023-05-01T10:48:02Z"),
            "2023-05-01 10:48:02 UTC"
        );
        assert_eq!(
            Span("2023-05-01T10:48:02+08:00", "2023-05-01T03:12:58Z").to_string(),
            "24m56s"
        );
        assert_eq!(period(10.9), "10.9s");
        assert_eq!(period(590.6), "9m51s");
    }

    #[test]
    fn long_ids_are_shortened_with_the_full_id_at_hand() {
        let id = "a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9";
        assert_eq!(
            Id(id).to_string(),
            format!("<code title=\"{id}\">a9acd5210705</code>")
        );
        assert_eq!(
            Id("kube-system/x").to_string(),
            "<code>kube-system/x</code>"
        );
        assert_eq!(
            shorten(&format!("container {id}")),
            "container a9acd5210705…"
        );
    }
}
