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
    if body[0] != b'{' && looks_like_plan_text(body) {
        return Err(DecodeProblem(
            "is the text `terraform plan`/`terraform show` prints for people, not JSON: run `terraform show -json PLANFILE > plan.json` and pass that".into(),
        ));
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

/// Phrases Terraform and OpenTofu print in a human-readable plan, never in `show -json`
/// output's first lines.
const PLAN_TEXT_MARKERS: [&[u8]; 6] = [
    b"used the selected providers to generate the following execution",
    b"will perform the following actions",
    b"Resource actions are indicated with the following symbols",
    b"No changes. Your infrastructure matches the configuration",
    b"Objects have changed outside of ",
    b"to add, ",
];

/// Whether the text before any JSON reads like a human-readable plan.
fn looks_like_plan_text(body: &[u8]) -> bool {
    let head = &body[..body.len().min(64 * 1024)];
    let before_json = match memchr::memchr(b'{', head) {
        Some(i) => &head[..i],
        None => head,
    };
    PLAN_TEXT_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(before_json, m).is_some())
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
/// valid JSON (on anything else it returns some answer, and stays in bounds).
///
/// It runs over the whole of every plan, so it works 64 bytes at a time on bit masks, as
/// simdjson's first stage does: the quotes, backslashes and brackets of a block become one bit
/// each, escaped quotes and then string interiors are masked out with a few arithmetic
/// operations, and a block whose opening brackets cannot reach `limit` is counted, not walked.
pub fn exceeds_depth(json: &[u8], limit: usize) -> Option<usize> {
    let mut scanner = DepthScanner::new(limit);
    scanner.feed(json);
    scanner.finish()
}

/// [`exceeds_depth`] over a text given in pieces of any length, in order.
pub struct DepthScanner {
    scan: DepthScan,
    limit: usize,
    /// Offset of the next full block in the whole text.
    offset: usize,
    /// Bytes of a block not yet complete.
    pending: [u8; 64],
    pending_len: usize,
    found: Option<usize>,
}

impl DepthScanner {
    pub fn new(limit: usize) -> DepthScanner {
        DepthScanner {
            scan: DepthScan {
                depth: 0,
                prev_escaped: 0,
                prev_in_string: 0,
            },
            limit,
            offset: 0,
            pending: [0; 64],
            pending_len: 0,
            found: None,
        }
    }

    pub fn feed(&mut self, mut text: &[u8]) {
        if self.found.is_some() {
            return;
        }
        if self.pending_len > 0 {
            let take = text.len().min(64 - self.pending_len);
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&text[..take]);
            self.pending_len += take;
            text = &text[take..];
            if self.pending_len < 64 {
                return;
            }
            let block = self.pending;
            self.pending_len = 0;
            if self.block(&block) {
                return;
            }
        }
        let mut blocks = text.chunks_exact(64);
        for block in blocks.by_ref() {
            let block: &[u8; 64] = block.try_into().expect("chunks_exact yields 64 bytes");
            if self.block(block) {
                return;
            }
        }
        let rest = blocks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// The offset where the text first nests deeper than the limit, if it does.
    pub fn finish(mut self) -> Option<usize> {
        if self.found.is_none() && self.pending_len > 0 {
            let mut last = [b' '; 64];
            last[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
            self.block(&last);
        }
        self.found
    }

    /// Scan one block; `true` once the limit is exceeded.
    fn block(&mut self, block: &[u8; 64]) -> bool {
        self.found = self
            .scan
            .block(block, self.limit)
            .map(|at| self.offset + at);
        self.offset += 64;
        self.found.is_some()
    }
}

struct DepthScan {
    depth: usize,
    /// 1 when the previous block ended in an unfinished backslash escape.
    prev_escaped: u64,
    /// All ones when the previous block ended inside a string.
    prev_in_string: u64,
}

impl DepthScan {
    /// Scan one block; the offset within it where nesting first exceeds `limit`, if it does.
    fn block(&mut self, block: &[u8; 64], limit: usize) -> Option<usize> {
        let Masks {
            quote,
            backslash,
            open,
            close,
        } = Masks::of(block);
        let escaped = self.escaped(backslash);
        let quote = quote & !escaped;
        // Inside a string: from an opening quote up to (not including) its closing one.
        let in_string = prefix_xor(quote) ^ self.prev_in_string;
        self.prev_in_string = ((in_string as i64) >> 63) as u64;
        let open = open & !in_string;
        let close = close & !in_string;

        let opens = open.count_ones() as usize;
        if self.depth + opens <= limit {
            self.depth = (self.depth + opens).saturating_sub(close.count_ones() as usize);
            return None;
        }
        let mut brackets = open | close;
        while brackets != 0 {
            let at = brackets.trailing_zeros();
            if open & (1 << at) != 0 {
                self.depth += 1;
                if self.depth > limit {
                    return Some(at as usize);
                }
            } else {
                self.depth = self.depth.saturating_sub(1);
            }
            brackets &= brackets - 1;
        }
        None
    }

    /// The characters escaped by a backslash (the odd-length-run rule, carried across blocks).
    fn escaped(&mut self, backslash: u64) -> u64 {
        const EVEN_BITS: u64 = 0x5555_5555_5555_5555;
        let backslash = backslash & !self.prev_escaped;
        let follows_escape = (backslash << 1) | self.prev_escaped;
        let odd_sequence_starts = backslash & !EVEN_BITS & !follows_escape;
        let (sequences_starting_on_even_bits, overflow) =
            odd_sequence_starts.overflowing_add(backslash);
        self.prev_escaped = overflow as u64;
        let invert_mask = sequences_starting_on_even_bits << 1;
        (EVEN_BITS ^ invert_mask) & follows_escape
    }
}

/// One bit per byte of a 64-byte block (bit i for byte i) for each character class the scan
/// tracks.
struct Masks {
    quote: u64,
    backslash: u64,
    /// `{` or `[`.
    open: u64,
    /// `}` or `]`.
    close: u64,
}

impl Masks {
    /// Sixteen bytes per compare with SSE2, which every x86-64 processor has.
    #[cfg(target_arch = "x86_64")]
    fn of(block: &[u8; 64]) -> Masks {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8,
        };
        let mut masks = Masks {
            quote: 0,
            backslash: 0,
            open: 0,
            close: 0,
        };
        for (i, lane) in block.chunks_exact(16).enumerate() {
            // SAFETY: `lane` is 16 readable bytes and the load is unaligned; SSE2 is part of
            // the x86-64 baseline, so these instructions always exist.
            let bits = |c: u8, v: __m128i| unsafe {
                (_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u16 as u64)
                    << (16 * i)
            };
            let v = unsafe { _mm_loadu_si128(lane.as_ptr().cast::<__m128i>()) };
            // `[` and `{` (and `]` and `}`) differ only in the 0x20 bit.
            let folded = unsafe { _mm_or_si128(v, _mm_set1_epi8(0x20)) };
            masks.quote |= bits(b'"', v);
            masks.backslash |= bits(b'\\', v);
            masks.open |= bits(b'{', folded);
            masks.close |= bits(b'}', folded);
        }
        masks
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn of(block: &[u8; 64]) -> Masks {
        Masks::portable(block)
    }

    /// Byte by byte: other processors, and the reference the vector version is tested against.
    #[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
    fn portable(block: &[u8; 64]) -> Masks {
        let mask = |matches: fn(u8) -> bool| {
            block
                .iter()
                .enumerate()
                .fold(0u64, |m, (i, &b)| m | ((matches(b) as u64) << i))
        };
        Masks {
            quote: mask(|b| b == b'"'),
            backslash: mask(|b| b == b'\\'),
            open: mask(|b| b == b'{' || b == b'['),
            close: mask(|b| b == b'}' || b == b']'),
        }
    }
}

/// Bit i is the XOR of bits 0..=i: turns quote positions into string interiors.
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_readable_plans_are_named_as_such() {
        let text = "\nTerraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n  - destroy\n\nTerraform will perform the following actions:\n\n  # aws_instance.web will be destroyed\n  - resource \"aws_instance\" \"web\" {\n      - ami = \"x\"\n    }\n\nPlan: 0 to add, 0 to change, 1 to destroy.\n";
        let e = json_text(text.as_bytes()).unwrap_err().0;
        assert!(e.contains("terraform show -json"), "{e}");
        assert!(e.starts_with("is the text"), "{e}");
        let no_changes = "\nNo changes. Your infrastructure matches the configuration.\n";
        assert!(json_text(no_changes.as_bytes())
            .unwrap_err()
            .0
            .starts_with("is the text"));
        // Wrapper noise before real JSON is still named as noise.
        let noisy = "[command]/usr/bin/terraform show -json plan\n{\"format_version\":\"1.2\"}";
        assert!(json_text(noisy.as_bytes())
            .unwrap_err()
            .0
            .contains("text before the JSON"));
    }

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

    /// The byte-at-a-time scan the block scan must agree with on valid JSON.
    fn reference_depth(json: &[u8], limit: usize) -> Option<usize> {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for (i, &b) in json.iter().enumerate() {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > limit {
                        return Some(i);
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        None
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        // Strings full of brackets, quotes and backslashes (escaped when serialised).
        let leaf = prop_oneof![
            "[\\[\\]{}\"\\\\a ]{0,70}".prop_map(serde_json::Value::String),
            any::<i32>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
        ];
        leaf.prop_recursive(12, 400, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map("[\\[{\"\\\\k]{0,40}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn block_scan_agrees_with_the_byte_scan(value in json_value(), limit in 0usize..14, pretty: bool) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            proptest::prop_assert_eq!(
                exceeds_depth(text.as_bytes(), limit),
                reference_depth(text.as_bytes(), limit)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn vector_masks_match_the_portable_ones(bytes in proptest::collection::vec(
            proptest::sample::select(b"\"\\{}[]zK;=\x7b\x5b\xfb\xdb\x00\xff".to_vec()), 64)) {
            let block: [u8; 64] = bytes.try_into().unwrap();
            let (fast, portable) = (Masks::of(&block), Masks::portable(&block));
            proptest::prop_assert_eq!(
                (fast.quote, fast.backslash, fast.open, fast.close),
                (portable.quote, portable.backslash, portable.open, portable.close)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn depth_scan_in_pieces_equals_depth_scan_whole(value in json_value(), limit in 0usize..14, cuts in proptest::collection::vec(0usize..200, 0..6)) {
            let text = serde_json::to_string(&value).unwrap();
            let mut scanner = DepthScanner::new(limit);
            let mut rest = text.as_bytes();
            for cut in cuts {
                let (piece, tail) = rest.split_at(cut.min(rest.len()));
                scanner.feed(piece);
                rest = tail;
            }
            scanner.feed(rest);
            proptest::prop_assert_eq!(scanner.finish(), exceeds_depth(text.as_bytes(), limit));
        }
    }

    #[test]
    fn block_scan_carries_strings_and_escapes_across_blocks() {
        // A string that spans blocks, with an escaped quote and a run of backslashes at a
        // block boundary, hiding brackets that must not count.
        for pad in 0..70 {
            let mut text = String::from("[");
            text.push_str(&" ".repeat(pad));
            text.push_str(r#""[[[[\\\"[[[[\\\\"#);
            text.push_str(&"[".repeat(80));
            text.push_str(r#"",[[["#);
            text.push_str("]]]]");
            assert_eq!(
                exceeds_depth(text.as_bytes(), 3),
                reference_depth(text.as_bytes(), 3),
                "pad {pad}: {text}"
            );
            assert_eq!(exceeds_depth(text.as_bytes(), 4), None, "pad {pad}");
        }
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
