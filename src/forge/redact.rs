//! Credentials written into a URL (`https://user:secret@host/...`) never leave plangate: the
//! API URLs it keeps have them blanked before anything else is done with them, and every
//! message about the forge is scrubbed again on its way out. This works on text, not on a
//! parsed URL, so it also covers the URLs that are refused because they do not parse
//! (`https://user:secret@host:notaport/`).

/// What a URL's user information is replaced with.
const BLANK: &str = "***@";

/// `text` with the user information of every `scheme://user:password@host` in it blanked.
pub(crate) fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(tail.len());
        let (url, after) = tail.split_at(end);
        out.push_str(&redact_authority(url));
        rest = after;
    }
    out.push_str(rest);
    out
}

/// One URL as given (with or without a scheme), its user information blanked.
pub(crate) fn redact_url(url: &str) -> String {
    if url.contains("://") {
        redact_urls(url)
    } else {
        redact_authority(url)
    }
}

/// `user:password@host/path` -> `***@host/path`. The user information ends at the last `@`
/// of the authority; when a password holds a `/` (the authority then seems to end early), at
/// the last `@` of the whole URL, as long as what comes before the `/` looks like `user:`.
fn redact_authority(url: &str) -> String {
    let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
    let authority = &url[..authority_end];
    let cut = match authority.rfind('@') {
        Some(at) => Some(at),
        None if authority.contains(':') => url.rfind('@'),
        None => None,
    };
    match cut {
        Some(at) => format!("{BLANK}{}", &url[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_is_blanked_wherever_it_is() {
        assert_eq!(
            redact_url("https://user:s3cr3t@host:notaport/"),
            "https://***@host:notaport/"
        );
        assert_eq!(
            redact_url("https://ghe.example/api/v3"),
            "https://ghe.example/api/v3"
        );
        assert_eq!(redact_url("user:s3cr3t@host/api"), "***@host/api");
        assert_eq!(
            redact_url("https://u:pa/ss@host/x"),
            "https://***@host/x",
            "a password with a slash"
        );
        assert_eq!(
            redact_url("https://u:p@ss@host/x"),
            "https://***@host/x",
            "a password with an @"
        );
        assert_eq!(
            redact_url("https://host/users/a@b"),
            "https://host/users/a@b",
            "an @ in the path is no credential"
        );
        assert_eq!(
            redact_urls("API URL http://a:b@h:1/x and https://c:d@e/ failed"),
            "API URL http://***@h:1/x and https://***@e/ failed"
        );
        assert_eq!(redact_urls("no url here: a@b"), "no url here: a@b");
    }
}
