//! The JSON report (`--format json`), schema version 1: stable field names, sorted content.
//! Also the JSON writer the SARIF format shares: pretty-printed, and with every control
//! character escaped (`\u009b`, `\u202e` too, which JSON would allow raw), so a name from a plan
//! reaches no terminal that shows the file.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

use crate::report::Report;

pub fn render(report: &Report) -> String {
    to_json(report).unwrap_or_else(|e| {
        format!("{{\"schema_version\":1,\"error\":\"could not serialise the report: {e}\"}}\n")
    })
}

/// Pretty JSON with a final newline; control characters always escaped.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut bytes = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut bytes, Escaping(PrettyFormatter::new()));
    value.serialize(&mut ser)?;
    bytes.push(b'\n');
    // The serializer writes UTF-8 only.
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

/// serde_json's pretty formatter, with string contents written through [`escape_fragment`].
struct Escaping(PrettyFormatter<'static>);

impl Formatter for Escaping {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Most text holds none of them: a C0 control or DEL is a byte below 0x20 or 0x7f, a C1
        // control starts with 0xc2, and the bidirectional controls with 0xe2.
        if !fragment
            .bytes()
            .any(|b| b < 0x20 || b == 0x7f || b == 0xc2 || b == 0xe2)
        {
            return writer.write_all(fragment.as_bytes());
        }
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|(_, c)| {
            c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(c)
                || ('\u{2066}'..='\u{2069}').contains(c)
        }) {
            writer.write_all(&rest.as_bytes()[..i])?;
            write!(writer, "\\u{:04x}", c as u32)?;
            rest = &rest[i + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_is_escaped_and_nothing_else() {
        // Every character up to U+2FFF, alone and inside text: escaped exactly when it is a
        // control or a bidirectional control, whatever bytes it is written with.
        for code in 0..0x3000u32 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let out = to_json(&format!("a{c}€")).unwrap();
            let out = out.trim_end_matches('\n');
            let escaped = c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c);
            assert_eq!(!out.contains(c), escaped, "U+{code:04X}: {out}");
            let back: String = serde_json::from_str(out).unwrap();
            assert_eq!(back, format!("a{c}€"));
        }
    }

    #[test]
    fn controls_are_escaped_and_the_text_is_unchanged() {
        let value = serde_json::json!({"a": "x\u{1b}[2K\u{9b}\u{202e}y\"é", "n": [1, 2]});
        let out = to_json(&value).unwrap();
        assert!(out.contains(r#""x\u001b[2K\u009b\u202ey\"é""#), "{out}");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, value);
        assert_eq!(
            out,
            serde_json::to_string_pretty(&value)
                .unwrap()
                .replace('\u{9b}', "\\u009b")
                .replace('\u{202e}', "\\u202e")
                + "\n"
        );
    }
}
