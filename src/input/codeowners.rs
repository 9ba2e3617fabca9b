//! A CODEOWNERS file (GitHub's and GitLab's): who owns a project's dir. The last rule whose
//! pattern matches the dir wins, as both forges read it. Patterns follow gitignore: a leading
//! `/` or a `/` inside anchors at the root, otherwise a pattern matches at any depth; `*` stays
//! within a path segment, `**` crosses them; a pattern matches a dir and everything under it.
//! A rule matches the project's dir when its pattern matches the dir itself or a dir above it
//! (`/envs/prod/`, `envs/**`, `*`); a pattern of file names (`*.tf`) names no dir. GitLab's
//! section headers (`[Database]`, `^[Docs]`) are skipped: their rules are read as one list.

/// The owners (`alice`, `acme/sre`, without `@`; e-mail addresses as written) of `dir`.
pub fn owners_of(text: &str, dir: &str) -> Vec<String> {
    let dir = dir.trim_start_matches("./").trim_matches('/');
    let dir = if dir == "." { "" } else { dir };
    let mut owners = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with('[')
            || line.starts_with("^[")
        {
            continue;
        }
        let mut words = line.split_whitespace();
        let Some(pattern) = words.next() else {
            continue;
        };
        if matches(pattern, dir) {
            owners = words
                .take_while(|w| !w.starts_with('#'))
                .map(|w| w.trim_start_matches('@').to_string())
                .filter(|w| !w.is_empty())
                .collect();
        }
    }
    owners
}

/// Whether `pattern` matches the dir or one of the dirs above it.
fn matches(pattern: &str, dir: &str) -> bool {
    let anchored = pattern.starts_with('/') || pattern.trim_end_matches('/').contains('/');
    let body = pattern.trim_start_matches('/').trim_end_matches('/');
    if body.is_empty() || body == "**" || body == "*" && !anchored {
        return true;
    }
    let glob = if anchored {
        body.to_string()
    } else {
        format!("**/{body}")
    };
    let Ok(matcher) = globset::GlobBuilder::new(&glob)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
    else {
        return false;
    };
    // The dir and each dir above it: a pattern that matches a dir owns what is inside.
    let mut path = dir;
    loop {
        if !path.is_empty() && matcher.is_match(path) {
            return true;
        }
        match path.rsplit_once('/') {
            Some((up, _)) => path = up,
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# owners\n* @acme/platform\n/envs/prod/ @acme/sre @alice\nenvs/staging/** @bob # staging\n*.md @docs\n[Database]\ndb/ @dba ops@acme.example\n";

    #[test]
    fn the_last_matching_rule_wins() {
        assert_eq!(owners_of(FILE, "envs/prod"), ["acme/sre", "alice"]);
        assert_eq!(owners_of(FILE, "envs/prod/eks"), ["acme/sre", "alice"]);
        assert_eq!(owners_of(FILE, "./envs/staging/app"), ["bob"]);
        assert_eq!(owners_of(FILE, "envs/dev"), ["acme/platform"]);
        assert_eq!(owners_of(FILE, "."), ["acme/platform"]);
        // Unanchored dir names match at any depth.
        assert_eq!(owners_of(FILE, "services/db"), ["dba", "ops@acme.example"]);
        assert!(owners_of("/envs/prod/ @sre\n", "envs/production").is_empty());
        assert!(owners_of("", "envs/prod").is_empty());
    }
}
