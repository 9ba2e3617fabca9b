//! Structural scanning of JSON text: where a value ends, and the entries of an object, found by
//! looking only at quotes, backslashes and brackets. Much cheaper than a parser, which reads
//! every number and every character of every string: a destroyed resource's prior values are
//! mostly values no rule reads, and a mass destroy is mostly prior values.
//!
//! The text must already be known to be JSON (the plan reader parsed it once). Malformed text
//! never panics: it ends the scan with an error.

use std::borrow::Cow;

/// The scan met something that is not JSON: cut off, or a byte no value starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotJson {
    pub offset: usize,
}

impl std::fmt::Display for NotJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not JSON at byte {}", self.offset)
    }
}

fn skip_space(text: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = text.get(at) {
        at += 1;
    }
    at
}

/// `at` is just past an opening quote: the offset just past the closing one. Eight bytes at a
/// time: most strings are short, too short for `memchr` to pay for its set-up.
fn string_end(text: &[u8], mut at: usize) -> Result<usize, NotJson> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    loop {
        while let Some(chunk) = text.get(at..at + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            // A byte of `x` is zero where the word holds a quote (or a backslash); the lowest
            // flagged byte is the first such one (flags above it may be false).
            let flags = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
            let found =
                flags(word ^ (ONES * u64::from(b'"'))) | flags(word ^ (ONES * u64::from(b'\\')));
            if found != 0 {
                at += (found.trailing_zeros() / 8) as usize;
                break;
            }
            at += 8;
        }
        match text.get(at) {
            Some(b'"') => return Ok(at + 1),
            // A backslash escapes the byte after it (`\"`, `\\`; `\u` needs nothing more).
            Some(b'\\') => at += 2,
            Some(_) => at += 1,
            None => return Err(NotJson { offset: text.len() }),
        }
    }
}

/// What a container scan stops at: 1 a quote, 2 an opening bracket, 3 a closing one.
const STOPS: [u8; 256] = {
    let mut table = [0u8; 256];
    table[b'"' as usize] = 1;
    table[b'{' as usize] = 2;
    table[b'[' as usize] = 2;
    table[b'}' as usize] = 3;
    table[b']' as usize] = 3;
    table
};

/// `at` is an opening bracket: the offset just past the bracket that closes it. One table
/// lookup per byte between strings; strings are stepped over by [`string_end`].
fn container_end(text: &[u8], at: usize) -> Result<usize, NotJson> {
    let mut depth = 0usize;
    let mut i = at;
    while i < text.len() {
        match STOPS[text[i] as usize] {
            0 => i += 1,
            1 => i = string_end(text, i + 1)?,
            2 => {
                depth += 1;
                i += 1;
            }
            _ => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
        }
    }
    Err(NotJson { offset: text.len() })
}

/// The offset just past the value that starts at `at` (after any whitespace).
pub fn value_end(text: &[u8], at: usize) -> Result<usize, NotJson> {
    let at = skip_space(text, at);
    match text.get(at) {
        Some(b'"') => string_end(text, at + 1),
        Some(b'{' | b'[') => container_end(text, at),
        Some(b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            let mut i = at + 1;
            while let Some(byte) = text.get(i) {
                if matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                i += 1;
            }
            Ok(i)
        }
        _ => Err(NotJson { offset: at }),
    }
}

/// One entry of an object: its key (unescaped) and its value's text.
pub type Entry<'a> = (Cow<'a, str>, &'a str);

/// The entries of the object `text` holds, in order, or `None` when it holds another kind of
/// value. Each value is returned as text, not parsed.
pub fn object_entries(text: &str) -> Option<Entries<'_>> {
    let at = skip_space(text.as_bytes(), 0);
    (text.as_bytes().get(at) == Some(&b'{')).then_some(Entries {
        text,
        at: at + 1,
        done: false,
    })
}

/// Iterator of [`object_entries`].
pub struct Entries<'a> {
    text: &'a str,
    at: usize,
    done: bool,
}

impl<'a> Entries<'a> {
    fn entry(&mut self) -> Result<Option<Entry<'a>>, NotJson> {
        let bytes = self.text.as_bytes();
        let mut at = skip_space(bytes, self.at);
        if bytes.get(at) == Some(&b',') {
            at = skip_space(bytes, at + 1);
        }
        match bytes.get(at) {
            Some(b'}') => return Ok(None),
            Some(b'"') => {}
            _ => return Err(NotJson { offset: at }),
        }
        let key_end = string_end(bytes, at + 1)?;
        let raw_key = &self.text[at + 1..key_end - 1];
        let key = if raw_key.contains('\\') {
            let unescaped: String = serde_json::from_str(&self.text[at..key_end])
                .map_err(|_| NotJson { offset: at })?;
            Cow::Owned(unescaped)
        } else {
            Cow::Borrowed(raw_key)
        };
        let colon = skip_space(bytes, key_end);
        if bytes.get(colon) != Some(&b':') {
            return Err(NotJson { offset: colon });
        }
        let start = skip_space(bytes, colon + 1);
        let end = value_end(bytes, start)?;
        self.at = end;
        // Every boundary found is an ASCII byte, so the slice is on character boundaries.
        Ok(Some((key, &self.text[start..end])))
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, NotJson>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let entry = self.entry().transpose();
        self.done = !matches!(entry, Some(Ok(_)));
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Vec<(String, String)> {
        object_entries(text)
            .unwrap()
            .map(|e| e.map(|(k, v)| (k.into_owned(), v.to_string())))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn values_end_where_a_parser_says() {
        let cases = [
            r#""plain""#,
            r#""say \"hi\" \\""#,
            r#""\\""#,
            "-12.5e3",
            "true",
            "null",
            r#"{"a": [1, {"b": "}]"}], "c": "\\"}"#,
            r#"[[], {}, "[", "{"]"#,
        ];
        for case in cases {
            let text = format!("{case} , 1");
            assert_eq!(value_end(text.as_bytes(), 0), Ok(case.len()), "{case}");
            // serde agrees that the prefix is exactly one value.
            serde_json::from_str::<serde_json::Value>(case).unwrap();
        }
    }

    #[test]
    fn strings_end_at_their_quote_wherever_it_falls_in_a_word() {
        for before in 0..20 {
            for after in 0..20 {
                for escape in ["", "\\\"", "\\\\", "\\u0041", "é"] {
                    let string = format!("\"{}{escape}{}\"", "a".repeat(before), "b".repeat(after));
                    let text = format!("{string}\"tail\"");
                    assert_eq!(value_end(text.as_bytes(), 0), Ok(string.len()), "{text}");
                    let parsed: String = serde_json::from_str(&string).unwrap();
                    assert!(parsed.len() >= before + after);
                }
            }
        }
    }

    #[test]
    fn entries_are_keys_and_value_texts() {
        let text = r#" { "tags" : {"env": "prod"}, "n\u0061me":"db", "list":[1,2] ,"z":null } "#;
        assert_eq!(
            entries(text),
            [
                ("tags".to_string(), r#"{"env": "prod"}"#.to_string()),
                ("name".into(), r#""db""#.into()),
                ("list".into(), "[1,2]".into()),
                ("z".into(), "null".into()),
            ]
        );
        assert!(entries("{}").is_empty());
        assert!(object_entries("[1]").is_none());
        assert!(object_entries("true").is_none());
    }

    #[test]
    fn malformed_text_is_an_error_not_a_panic() {
        for text in [
            r#"{"a": "#,
            r#"{"a": "x"#,
            r#"{"a" 1}"#,
            r#"{"a": [1, 2"#,
            r#"{"a": ?}"#,
            r#"{"a\"#,
            r#"{1: 2}"#,
        ] {
            let all: Vec<_> = object_entries(text).unwrap().collect();
            assert!(all.last().is_some_and(|e| e.is_err()), "{text}: {all:?}");
        }
        assert!(value_end(b"", 0).is_err());
        assert!(value_end(br#""\"#, 0).is_err());
    }
}
