//! Atlantis's rules for names and values: project names, workspaces, versions, regexes.

/// Atlantis's `validProjectName`: what `url.QueryEscape` leaves alone, plus `/`.
pub(super) fn valid_project_name(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '/'))
}

/// Atlantis's `ValidateWorkspaceName`.
pub(super) fn validate_workspace(workspace: &str) -> Result<(), &'static str> {
    if workspace.is_empty() {
        return Ok(());
    }
    if workspace.contains(['/', '\\']) {
        return Err("cannot contain '/' or '\\'");
    }
    if workspace.contains("..") {
        return Err("cannot contain '..'");
    }
    if workspace == "." {
        return Err("cannot be '.'");
    }
    if workspace.starts_with('-') {
        return Err("cannot start with '-'");
    }
    if workspace.starts_with('~') {
        return Err("cannot start with '~'");
    }
    if workspace.contains('$') {
        return Err("cannot contain '$'");
    }
    if workspace
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("cannot contain whitespace or control characters");
    }
    Ok(())
}

/// The version grammar of hashicorp/go-version's `NewVersion`, which Atlantis uses for
/// `terraform_version`: `v1.2.3`, `1.2`, `1.5.0-beta1`, `1.5.0+meta`.
pub(super) fn valid_version(version: &str) -> bool {
    use std::sync::OnceLock;
    static GRAMMAR: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let grammar = GRAMMAR.get_or_init(|| {
        let ident = r"[0-9A-Za-z~-]+";
        let pattern = format!(
            r"^v?(?P<segments>[0-9]+(?:\.[0-9]+)*)(?:-[0-9]+[0-9A-Za-z~-]*(?:\.{ident})*|-?[A-Za-z~-]+[0-9A-Za-z~-]*(?:\.{ident})*)?(?:\+{ident}(?:\.{ident})*)?$"
        );
        regex::Regex::new(&pattern).ok()
    });
    let Some(captures) = grammar.as_ref().and_then(|g| g.captures(version)) else {
        return false;
    };
    captures
        .name("segments")
        .is_some_and(|s| s.as_str().split('.').all(|n| n.parse::<i64>().is_ok()))
}

/// The last line of a `regex` error ("unclosed group"), without the pattern echo above it.
pub(super) fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    crate::text::one_line(last.trim().trim_start_matches("error:"))
}

/// How github.com/google/shlex (which Atlantis uses to split version-2 `run` commands)
/// fails on a command, if it does: an unclosed quote, or a backslash at the very end.
pub(super) fn shlex_problem(command: &str) -> Option<&'static str> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Start,
        Word,
        Escaping,
        EscapingQuoted,
        Double,
        Single,
        Comment,
    }
    let mut state = State::Start;
    for c in command.chars() {
        state = match (state, c) {
            (State::Comment, '\n') => State::Start,
            (State::Comment, _) => State::Comment,
            (State::Start, '#') => State::Comment,
            (State::Start | State::Word, c) if c.is_whitespace() => State::Start,
            (State::Start | State::Word, '\\') => State::Escaping,
            (State::Start | State::Word, '"') => State::Double,
            (State::Start | State::Word, '\'') => State::Single,
            (State::Start | State::Word, _) => State::Word,
            (State::Escaping, _) => State::Word,
            (State::EscapingQuoted, _) => State::Double,
            (State::Double, '"') => State::Word,
            (State::Double, '\\') => State::EscapingQuoted,
            (State::Double, _) => State::Double,
            (State::Single, '\'') => State::Word,
            (State::Single, _) => State::Single,
        };
    }
    match state {
        State::Escaping | State::EscapingQuoted => Some("EOF found after escape character"),
        State::Double | State::Single => Some("EOF found when expecting closing quote"),
        _ => None,
    }
}
