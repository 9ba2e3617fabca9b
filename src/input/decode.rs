//! Turns the raw bytes of an input file into JSON text, or says precisely why they are not.
//!
//! This is where failing closed starts: an empty file, an HTML error page, a binary planfile or a
//! CI wrapper's noise in front of the JSON are each named, never read as "nothing to check".

use std::borrow::Cow;

/// What is wrong with a file's bytes before any JSON is parsed. The message is one line and
/// says how to fix it where there is a fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeProblem(pub String);

/// Decode BOM-marked UTF-8 / UTF-16 and reject content that cannot be a JSON document.
///
/// Returns the text to parse: borrowed when the bytes are plain UTF-8 (the common, large case),
/// owned when a UTF-16 file had to be transcoded.
pub fn json_text(bytes: &[u8]) -> Result<Cow<'_, [u8]>, DecodeProblem> {
    let text: Cow<'_, [u8]> = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Cow::Borrowed(rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        Cow::Owned(utf16_to_utf8(rest, u16::from_le_bytes)?.into_bytes())
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        Cow::Owned(utf16_to_utf8(rest, u16::from_be_bytes)?.into_bytes())
    } else {
        Cow::Borrowed(bytes)
    };

    let first = match text.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(i) => i,
        None => {
            return Err(DecodeProblem(if bytes.is_empty() {
                "is empty: expected the output of `terraform show -json PLANFILE`".into()
            } else {
                "contains only whitespace: expected the output of `terraform show -json PLANFILE`"
                    .into()
            }))
        }
    };
    let body = &text[first..];

    if body.starts_with(b"PK\x03\x04") {
        return Err(DecodeProblem(
            "is a binary Terraform plan file, not JSON: run `terraform show -json PLANFILE > plan.json` and pass that".into(),
        ));
    }
    if looks_like_utf16_without_bom(body) {
        return Err(DecodeProblem(
            "looks like UTF-16 text without a byte-order mark: re-save it as UTF-8".into(),
        ));
    }
    if body[0] == b'<' {
        let what = if starts_with_ignore_case(body, b"<!doctype html")
            || contains_ignore_case(body, b"<html")
        {
            "an HTML page"
        } else {
            "XML or HTML"
        };
        return Err(DecodeProblem(format!(
            "is {what}, not plan JSON (a proxy or API error page?): expected the output of `terraform show -json PLANFILE`"
        )));
    }
    // A plan is an object; `[` followed by a word is log noise such as `[command]/usr/bin/…`.
    let bracket_noise = body[0] == b'['
        && body[1..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| b.is_ascii_alphabetic() && !matches!(b, b't' | b'f' | b'n'));
    if (body[0] != b'{' && body[0] != b'[') || bracket_noise {
        if let Some(offset) = memchr::memchr(b'{', body) {
            let line = 1 + text[..first + offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            let noise = first_line_preview(body);
            return Err(DecodeProblem(format!(
                "has text before the JSON (starting `{noise}`; the JSON starts on line {line}): a CI wrapper's output? Write the file with `terraform show -json PLANFILE > plan.json` (in GitHub Actions, set `terraform_wrapper: false` in setup-terraform)"
            )));
        }
        return Err(DecodeProblem(format!(
            "is not JSON (starts with `{}`): expected the output of `terraform show -json PLANFILE`",
            first_line_preview(body)
        )));
    }
    Ok(text)
}

/// Decode a configuration file's bytes: UTF-8 with or without a BOM, or UTF-16 with a BOM
/// (what PowerShell's `>` writes).
pub fn text(bytes: &[u8]) -> Result<String, DecodeProblem> {
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16_to_utf8(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16_to_utf8(rest, u16::from_be_bytes);
    }
    let rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8(rest.to_vec()).map_err(|e| {
        DecodeProblem(format!(
            "is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn utf16_to_utf8(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, DecodeProblem> {
    if !bytes.len().is_multiple_of(2) {
        return Err(DecodeProblem(
            "is UTF-16 with an odd number of bytes: the file is truncated".into(),
        ));
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| DecodeProblem("is UTF-16 with invalid surrogate pairs".into()))
}

fn looks_like_utf16_without_bom(body: &[u8]) -> bool {
    body.len() >= 4 && ((body[0] == b'{' && body[1] == 0) || (body[0] == 0 && body[1] == b'{'))
}

fn starts_with_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    let window = &haystack[..haystack.len().min(4096)];
    window
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The first line of the content, shortened and stripped of control characters, for messages.
/// Only called on content that is not JSON, so it cannot leak a plan value.
fn first_line_preview(body: &[u8]) -> String {
    let line = body.split(|&b| b == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(&line[..line.len().min(60)]);
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim_end().to_string();
    if line.len() > 60 {
        format!("{clean}…")
    } else {
        clean
    }
}

/// How deep JSON may nest anywhere in a document, skipped sections included: the depth serde
/// refuses beyond in the parts the gate reads. Terraform writes far shallower documents.
pub const MAX_DEPTH: usize = 128;

/// The byte offset where already-parsed JSON first nests deeper than `limit`, if it does.
///
/// Sections the gate skips are skipped without a depth limit (iteratively, so safely); this
/// scan makes a document nested absurdly deep anywhere an error rather than a plan. It assumes
/// valid JSON and only tracks strings and brackets, jumping through strings with memchr.
pub fn exceeds_depth(json: &[u8], limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                // Skip to the closing quote, stepping over escapes.
                i += 1;
                while let Some(offset) = json
                    .get(i..)
                    .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
                {
                    i += offset;
                    if json[i] == b'\\' {
                        i += 2;
                    } else {
                        break;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(bytes: &[u8]) -> String {
        json_text(bytes).unwrap_err().0
    }

    #[test]
    fn plain_json_is_borrowed() {
        let text = json_text(b"  {\"a\":1}").unwrap();
        assert!(matches!(text, Cow::Borrowed(_)));
    }

    #[test]
    fn utf8_bom_is_stripped() {
        assert_eq!(&*json_text(b"\xEF\xBB\xBF{}").unwrap(), b"{}");
    }

    #[test]
    fn utf16_le_and_be_with_bom_are_decoded() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("{\"é\":1}".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(&*json_text(&le).unwrap(), "{\"é\":1}".as_bytes());
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("{}".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(&*json_text(&be).unwrap(), b"{}");
    }

    #[test]
    fn empty_and_blank_files_are_named() {
        assert!(problem(b"").starts_with("is empty"));
        assert!(problem(b" \n\t").starts_with("contains only whitespace"));
    }

    #[test]
    fn html_page_is_rejected() {
        let p = problem(b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>");
        assert!(p.contains("HTML page"), "{p}");
    }

    #[test]
    fn binary_planfile_says_how_to_fix() {
        let p = problem(b"PK\x03\x04\x14\x00rest-of-zip");
        assert!(p.contains("terraform show -json"), "{p}");
    }

    #[test]
    fn wrapper_noise_is_named_with_the_json_line() {
        let p =
            problem(b"[command]/usr/bin/terraform show -json plan\n{\"format_version\":\"1.2\"}");
        assert!(p.contains("text before the JSON"), "{p}");
        assert!(p.contains("line 2"), "{p}");
        assert!(p.contains("[command]/usr/bin/terraform"), "{p}");
    }

    #[test]
    fn utf16_without_bom_is_named() {
        let p = problem(b"{\x00\"\x00a\x00");
        assert!(p.contains("UTF-16"), "{p}");
    }

    #[test]
    fn nesting_depth_is_measured_outside_strings_only() {
        assert_eq!(exceeds_depth(b"[[[]]]", 3), None);
        assert_eq!(exceeds_depth(b"[[[[]]]]", 3), Some(3));
        assert_eq!(exceeds_depth(br#"{"a":"[[[[\\\"[[[["}"#, 1), None);
        assert_eq!(exceeds_depth(br#"{"a\\":[[]]}"#, 2), Some(8));
        // Invalid JSON (the scan may run beside a failing parse): never out of bounds.
        assert_eq!(exceeds_depth(b"[\"fe\\", 8), None);
        assert_eq!(exceeds_depth(b"\"\\", 8), None);
    }

    #[test]
    fn plain_text_is_rejected() {
        assert!(problem(b"Error: no state").starts_with("is not JSON"));
    }
}
