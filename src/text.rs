//! Small text helpers every floor may use: one line out of many, a "did you mean" suggestion,
//! and printable names.

/// `1 resource`, `3 resources`: a count with the word that agrees with it.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Collapse any run of whitespace or control characters into one space, so a message quoting
/// hostile or multi-line text stays on one line.
pub fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The known name closest to an unknown one, when the difference looks like a typo: at most
/// two edits (or a quarter of the name, for long names), and never the whole word.
pub fn suggest<'k>(name: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    known
        .into_iter()
        .map(|k| (strsim::levenshtein(name, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < name.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// A name or value for a one-line message: control characters escaped so a hostile file
/// cannot break the line or the terminal, and at most 200 characters.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(200));
    for (i, c) in s.chars().enumerate() {
        if i >= 200 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that change how text around them is shown (bidirectional overrides and
/// isolates): escaped like control characters.
const BIDI_CONTROLS: [char; 9] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}',
];

/// Text with every control character (C0, C1, bidirectional overrides) written as a visible
/// escape (`\u{1b}`, `\r`), so that a name from a plan cannot repaint a terminal line, start
/// a new line, or reorder what is shown. Everything else is kept as it is.
pub fn visible(s: &str) -> String {
    if !s
        .chars()
        .any(|c| c.is_control() || BIDI_CONTROLS.contains(&c))
    {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() || BIDI_CONTROLS.contains(&c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// At most `max` characters of `s`, saying how many more there were: a 200,000-character
/// for_each key costs no terminal table (or comment) more than a line.
pub fn clip(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let kept: String = s.chars().take(max).collect();
    format!("{kept}…({} more characters)", n - max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_lines_and_drops_controls() {
        assert_eq!(one_line("  a\n\tb\r\n c\u{1b} "), "a b c");
    }

    #[test]
    fn suggestions_need_a_small_distance() {
        let keys = ["workspace", "workflow", "name", "dir"];
        assert_eq!(suggest("worksapce", keys), Some("workspace"));
        assert_eq!(suggest("custom_plan_workflow", keys), None);
        assert_eq!(suggest("ab", ["cd"]), None);
        assert_eq!(
            suggest("cross-env-destory", ["cross-env-destroy", "mass-deletion"]),
            Some("cross-env-destroy")
        );
    }

    #[test]
    fn clip_says_how_much_it_left_out() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcdef", 2), "ab…(4 more characters)");
    }

    #[test]
    fn visible_escapes_every_control() {
        assert_eq!(
            visible("a\u{1b}[2Kb\r\n\u{9b}\u{202e}c"),
            "a\\u{1b}[2Kb\\r\\n\\u{9b}\\u{202e}c"
        );
        assert_eq!(visible("plain é"), "plain é");
    }

    #[test]
    fn printable_escapes_controls_and_caps_length() {
        assert_eq!(printable("a\nb"), "a\\nb");
        assert_eq!(printable(&"x".repeat(300)).chars().count(), 201);
    }
}
