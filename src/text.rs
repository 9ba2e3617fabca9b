//! Small text helpers every floor may use: one line out of many, a "did you mean" suggestion,
//! and printable names.

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
    fn printable_escapes_controls_and_caps_length() {
        assert_eq!(printable("a\nb"), "a\\nb");
        assert_eq!(printable(&"x".repeat(300)).chars().count(), 201);
    }
}
