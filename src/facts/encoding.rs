//! Commit messages re-encoded to UTF-8 as `git log` shows them.
//!
//! This module owns one decision: given the value of a commit's `encoding`
//! header and its message bytes, which bytes does `git log` (with the default
//! `i18n.logOutputEncoding` of UTF-8) show, and so parse trailers from? It does
//! not find the header (the caller passes its value) and does not parse
//! trailers ([`crate::facts::trailers`] does, on this module's output).
//!
//! git's rules (`pretty.c` `logmsg_reencode`, `utf8.c` `reencode_string_len`):
//!
//! - no header, or any spelling of UTF-8 (`UTF-8`, `utf8`, `Utf-8`): the bytes
//!   are shown as they are, valid UTF-8 or not;
//! - otherwise git converts with iconv, up to the first NUL (it converts a C
//!   string). If iconv does not know the encoding or meets a byte sequence
//!   that is invalid in it, git gives up and shows the original bytes;
//!   `latin-1` is retried as `ISO-8859-1`.
//!
//! git uses the system's iconv, which on the servers trailgate runs on is
//! glibc's. `encoding_rs` implements the WHATWG encodings, which differ from
//! glibc for some labels people really write in commit headers, so those are
//! done here the glibc way (each checked against git byte for byte by the
//! integration tests):
//!
//! - ISO-8859-1 and its aliases map every byte to the same code point (WHATWG
//!   reads them as windows-1252, turning 0x80..0x9F into `€`, `‚`, ...);
//! - US-ASCII rejects any byte above 0x7F, so such messages stay as they are;
//! - windows-1252 rejects its five unassigned bytes;
//! - `Shift_JIS` / `SJIS` is glibc's JIS X 0201 + JIS X 0208 table: 0x5C is
//!   `¥`, 0x7E is `‾`, the Microsoft extensions (NEC row 13, IBM rows) are
//!   invalid, and a few symbols map to different code points than in
//!   Windows-31J (which `CP932` / `Windows-31J` labels still get, as in glibc).
//!
//! Other labels go through `encoding_rs` and may differ from glibc on rarely
//! used code points. Two cases cannot be reproduced from the message alone,
//! because git converts the whole commit object, headers included: a header
//! (author name, say) that is invalid in the declared encoding makes git keep
//! the original message even when the message itself would convert, and
//! ASCII-incompatible encodings (UTF-16, UTF-32) turn the ASCII headers into
//! garbage; for those this module keeps the original bytes.

use std::borrow::Cow;

use encoding_rs::Encoding;

/// `String::from_utf8_lossy`, checking first with `std::str::from_utf8`,
/// whose word-at-a-time ASCII path is several times faster on the valid
/// UTF-8 that nearly every commit holds than the lossy decoder's byte
/// loop; the answer is the same.
pub fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Re-encodes `message` from its commit's `encoding` header value to UTF-8 as `git log` does.
pub fn message_as_utf8<'a>(encoding: Option<&[u8]>, message: &'a [u8]) -> Cow<'a, [u8]> {
    let Some(label) = encoding else {
        return Cow::Borrowed(message);
    };
    let label = label.trim_ascii().to_ascii_lowercase();
    if is_utf8_label(&label) {
        return Cow::Borrowed(message);
    }
    // iconv converts the C string: a NUL ends the message git shows.
    let text = message.split(|&b| b == 0).next().unwrap_or(message);
    let converted = match charset(&label) {
        Some(Charset::Latin1) => Some(
            text.iter()
                .map(|&b| char::from(b))
                .collect::<String>()
                .into_bytes(),
        ),
        Some(Charset::Ascii) => text.is_ascii().then(|| text.to_vec()),
        Some(Charset::Windows1252) => {
            let unassigned = |b: &u8| matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D);
            if text.iter().any(unassigned) {
                None
            } else {
                decode_strict(encoding_rs::WINDOWS_1252, text)
            }
        }
        Some(Charset::GlibcShiftJis) => decode_glibc_shift_jis(text).map(String::into_bytes),
        Some(Charset::Whatwg(encoding)) => decode_strict(encoding, text),
        None => None,
    };
    match converted {
        // Nothing changed (ASCII text): keep borrowing.
        Some(bytes) if bytes == message => Cow::Borrowed(message),
        Some(bytes) => Cow::Owned(bytes),
        // git keeps the original bytes when iconv fails.
        None => Cow::Borrowed(message),
    }
}

/// git's `same_encoding(label, "UTF-8")` / `is_encoding_utf8`: "utf", an optional "-", then "8".
fn is_utf8_label(label: &[u8]) -> bool {
    match label.strip_prefix(b"utf") {
        Some(rest) => rest.strip_prefix(b"-").unwrap_or(rest) == b"8",
        None => false,
    }
}

enum Charset {
    Latin1,
    Ascii,
    Windows1252,
    GlibcShiftJis,
    Whatwg(&'static Encoding),
}

/// How to decode a (lowercased, trimmed) label, or `None` when git's iconv would not know it either.
fn charset(label: &[u8]) -> Option<Charset> {
    const LATIN1: &[&[u8]] = &[
        b"iso-8859-1",
        b"iso8859-1",
        b"iso_8859-1",
        b"iso_8859-1:1987",
        b"iso88591",
        b"8859_1",
        b"latin1",
        b"latin-1", // not an iconv name: git retries it as ISO-8859-1
        b"l1",
        b"cp819",
        b"ibm819",
        b"csisolatin1",
        b"iso-ir-100",
    ];
    const ASCII: &[&[u8]] = &[
        b"ascii",
        b"us-ascii",
        b"ansi_x3.4-1968",
        b"ansi_x3.4-1986",
        b"iso646-us",
        b"iso_646.irv:1991",
        b"us",
        b"iso-ir-6",
        b"ibm367",
        b"cp367",
        b"csascii",
        b"646",
    ];
    const WINDOWS_1252: &[&[u8]] = &[b"windows-1252", b"cp1252", b"ms-ansi"];
    const GLIBC_SHIFT_JIS: &[&[u8]] = &[
        b"shift_jis",
        b"shift-jis",
        b"sjis",
        b"ms_kanji",
        b"csshiftjis",
    ];

    if LATIN1.contains(&label) {
        return Some(Charset::Latin1);
    }
    if ASCII.contains(&label) {
        return Some(Charset::Ascii);
    }
    if WINDOWS_1252.contains(&label) {
        return Some(Charset::Windows1252);
    }
    if GLIBC_SHIFT_JIS.contains(&label) {
        return Some(Charset::GlibcShiftJis);
    }
    // glibc's name for Windows-31J, which WHATWG does not list.
    if label == b"cp932" {
        return Some(Charset::Whatwg(encoding_rs::SHIFT_JIS));
    }
    let encoding = Encoding::for_label_no_replacement(label)?;
    // ASCII-incompatible encodings would also convert the commit's headers;
    // see the module documentation.
    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        return None;
    }
    Some(Charset::Whatwg(encoding))
}

fn decode_strict(encoding: &'static Encoding, text: &[u8]) -> Option<Vec<u8>> {
    encoding
        .decode_without_bom_handling_and_without_replacement(text)
        .map(|s| s.into_owned().into_bytes())
}

/// glibc's `SHIFT_JIS` converter: JIS X 0201 (with its yen sign and overline)
/// plus JIS X 0208 rows 1-84, nothing else.
fn decode_glibc_shift_jis(bytes: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(bytes.len() * 3 / 2);
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            0x5C => out.push('\u{A5}'),
            0x7E => out.push('\u{203E}'),
            0x00..=0x7F => out.push(char::from(b)),
            // Half-width katakana.
            0xA1..=0xDF => out.push(char::from_u32(0xFF61 + u32::from(b - 0xA1))?),
            // Lead bytes of JIS X 0208 rows 1-8, 15-62 and 63-84.
            0x81..=0x84 | 0x88..=0x9F | 0xE0..=0xEA => {
                let pair = bytes.get(i..i + 2)?;
                out.push(glibc_double_byte(pair)?);
                i += 2;
                continue;
            }
            _ => return None,
        }
        i += 1;
    }
    Some(out)
}

/// One JIS X 0208 character. WHATWG's table is Windows-31J's, which maps a
/// handful of symbols to different (mostly full-width) code points than glibc.
fn glibc_double_byte(pair: &[u8]) -> Option<char> {
    let glibc = match pair {
        [0x81, 0x60] => Some('\u{301C}'), // WAVE DASH (WHATWG: U+FF5E)
        [0x81, 0x61] => Some('\u{2016}'), // DOUBLE VERTICAL LINE (WHATWG: U+2225)
        [0x81, 0x7C] => Some('\u{2212}'), // MINUS SIGN (WHATWG: U+FF0D)
        [0x81, 0x91] => Some('\u{A2}'),   // CENT SIGN (WHATWG: U+FFE0)
        [0x81, 0x92] => Some('\u{A3}'),   // POUND SIGN (WHATWG: U+FFE1)
        [0x81, 0xCA] => Some('\u{AC}'),   // NOT SIGN (WHATWG: U+FFE2)
        _ => None,
    };
    if glibc.is_some() {
        return glibc;
    }
    let decoded =
        encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(pair)?;
    let mut chars = decoded.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn utf8(label: &str, bytes: &[u8]) -> Vec<u8> {
        message_as_utf8(Some(label.as_bytes()), bytes).into_owned()
    }

    #[test]
    fn messages_without_a_header_are_kept_as_they_are() {
        assert!(matches!(
            message_as_utf8(None, b"\xff\n"),
            Cow::Borrowed(b"\xff\n")
        ));
    }

    #[test]
    fn every_spelling_of_utf8_means_no_conversion() {
        for label in ["UTF-8", "utf8", "Utf-8", " utf-8 "] {
            assert!(
                matches!(
                    message_as_utf8(Some(label.as_bytes()), b"\xff"),
                    Cow::Borrowed(_)
                ),
                "{label}"
            );
        }
    }

    #[test]
    fn latin1_maps_every_byte_to_its_code_point_not_to_windows_1252() {
        assert_eq!(
            utf8("ISO-8859-1", b"Ren\xe9 \x80"),
            "René \u{80}".as_bytes()
        );
        assert_eq!(utf8("latin-1", b"\xe9"), "é".as_bytes());
    }

    #[test]
    fn ascii_text_stays_borrowed_after_conversion() {
        assert!(matches!(
            message_as_utf8(Some(b"ISO-8859-1"), b"plain\n"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn invalid_bytes_keep_the_original_message() {
        assert_eq!(utf8("US-ASCII", b"caf\xe9"), b"caf\xe9");
        assert_eq!(utf8("Shift_JIS", b"\x82"), b"\x82");
        assert_eq!(utf8("windows-1252", b"\x81"), b"\x81");
    }

    #[test]
    fn unknown_encodings_keep_the_original_message() {
        assert_eq!(utf8("no-such-charset", b"\xe9"), b"\xe9");
    }

    #[test]
    fn nul_ends_the_converted_message() {
        assert_eq!(utf8("ISO-8859-1", b"\xe9\0\xe9"), "é".as_bytes());
    }

    #[test]
    fn shift_jis_follows_glibc_not_windows_31j() {
        assert_eq!(utf8("Shift_JIS", b"\x93\xfa\x96\x7b"), "日本".as_bytes());
        assert_eq!(utf8("Shift_JIS", b"\\~"), "¥‾".as_bytes());
        assert_eq!(utf8("Shift_JIS", b"\x81\x60"), "\u{301C}".as_bytes());
        assert_eq!(utf8("Shift_JIS", b"\x87\x40"), b"\x87\x40");
        assert_eq!(utf8("CP932", b"\x87\x40"), "①".as_bytes());
    }
}
