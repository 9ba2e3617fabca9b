//! What the GitHub and GitLab sinks share: one request shape, how an answer is judged (a 200
//! HTML page is an error, 5xx and rate limits are retried with bounded backoff, 401/403 get a
//! message that says what to fix), `Link` pagination and URL encoding.

use std::time::Duration;

use serde_json::Value;

use super::SinkError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Patch,
    Put,
    Delete,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// An answer as the sinks need it: status, body, and the headers that steer retries and pages.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: String,
    pub link: Option<String>,
    pub retry_after: Option<Duration>,
    /// `x-ratelimit-remaining: 0` (GitHub's primary rate limit answers 403 or 429 with it).
    pub rate_limit_exhausted: bool,
}

/// A parsed JSON answer and the next page, if any (a path from the server's origin).
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub json: Value,
    pub next: Option<String>,
}

/// How often and how patiently a request is tried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The first wait; doubled on each retry. Zero makes retries immediate (tests).
    pub base: Duration,
    /// No single wait is longer, whatever `Retry-After` says.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(1000),
            max_wait: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    fn wait(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if self.base.is_zero() {
            return Duration::ZERO;
        }
        let exponential = self.base.saturating_mul(1 << retry.min(10));
        retry_after.unwrap_or(exponential).min(self.max_wait)
    }
}

/// A platform's way of sending one request. `path` is the path and query from the API's
/// origin (`/api/v3/repos/...`), never a full URL, so credentials never go to another host.
#[allow(async_fn_in_trait)]
pub(crate) trait Transport {
    /// "GitHub" or "GitLab", for messages.
    fn platform(&self) -> &'static str;
    /// Which variables may hold the token, for messages.
    fn token_hint(&self) -> &'static str;
    async fn send(&self, method: Method, path: &str, body: Option<&Value>)
        -> Result<Reply, String>;
}

enum Judgement {
    Done(Answer),
    Retry(String, Option<Duration>),
    Fail(SinkError),
}

/// Send with retries and judge the answer.
pub(crate) async fn call<T: Transport>(
    transport: &T,
    retry: &RetryPolicy,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<Answer, SinkError> {
    let what = format!("{} {}", method.as_str(), strip_query(path));
    let attempts = retry.attempts.max(1);
    let mut last = String::new();
    for attempt in 0..attempts {
        let judgement = match transport.send(method, path, body).await {
            Ok(reply) => judge(transport, &what, reply),
            Err(e) => Judgement::Retry(format!("{what}: {e}"), None),
        };
        match judgement {
            Judgement::Done(answer) => return Ok(answer),
            Judgement::Fail(e) => return Err(e),
            Judgement::Retry(why, retry_after) => {
                last = why;
                if attempt + 1 < attempts {
                    sleep(retry.wait(attempt, retry_after)).await;
                }
            }
        }
    }
    Err(SinkError::new(format!(
        "{last} (gave up after {attempts} tries)"
    )))
}

fn judge<T: Transport>(transport: &T, what: &str, reply: Reply) -> Judgement {
    let platform = transport.platform();
    let status = reply.status;
    match status {
        200..=299 => {
            if status == 204 || (reply.body.trim().is_empty() && method_may_be_empty(what)) {
                return Judgement::Done(Answer { json: Value::Null, next: None });
            }
            match serde_json::from_str::<Value>(&reply.body) {
                Ok(json) => Judgement::Done(Answer {
                    json,
                    next: reply.link.as_deref().and_then(next_link),
                }),
                // An API that answers with a web page (a proxy, a login page, an outage page,
                // a web URL instead of the API's) must not read as "no comments".
                Err(_) => Judgement::Retry(
                    format!(
                        "{platform} answered {what} with status {status} but a body that is not JSON ({}): is the API URL right?",
                        describe_body(&reply.body)
                    ),
                    None,
                ),
            }
        }
        401 => Judgement::Fail(SinkError::new(format!(
            "{platform} rejected the token (401 Unauthorized) on {what}: check {}",
            transport.token_hint()
        ))),
        403 | 429 if reply.rate_limit_exhausted || reply.retry_after.is_some() || status == 429 => {
            Judgement::Retry(format!("{platform} rate limit hit ({status}) on {what}"), reply.retry_after)
        }
        403 => Judgement::Fail(SinkError::new(format!(
            "{platform} refused {what} (403 Forbidden{}): the token lacks permission on this repository or pull request; pull requests from forks get a read-only token (give the job write permission on pull requests, or set {})",
            server_message(&reply.body).map(|m| format!(": {m}")).unwrap_or_default(),
            transport.token_hint()
        ))),
        404 => Judgement::Fail(SinkError::new(format!(
            "{platform} answered 404 Not Found on {what}: check --repo, --pr and the API URL, and that the token can see the repository"
        ))),
        500..=599 => Judgement::Retry(format!("{platform} answered {status} on {what}"), reply.retry_after),
        _ => Judgement::Fail(SinkError::new(format!(
            "{platform} answered {status} on {what}{}",
            server_message(&reply.body).map(|m| format!(": {m}")).unwrap_or_default()
        ))),
    }
}

fn method_may_be_empty(what: &str) -> bool {
    what.starts_with("DELETE ")
}

/// A short, safe description of a body that should have been JSON.
fn describe_body(body: &str) -> String {
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        "empty".into()
    } else if trimmed.starts_with('<') {
        "an HTML page".into()
    } else {
        format!("{} bytes of something else", body.len())
    }
}

/// The `message` of a JSON error answer, shortened and made one line.
fn server_message(body: &str) -> Option<String> {
    let json: Value = serde_json::from_str(body).ok()?;
    let message = json.get("message")?;
    let text = match message {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(one_line.chars().take(200).collect())
}

fn strip_query(path: &str) -> &str {
    path.split_once('?').map_or(path, |(p, _)| p)
}

async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

/// The `rel="next"` URL of a `Link` header.
pub(crate) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let url = pieces.next()?.trim().strip_prefix('<')?.strip_suffix('>')?;
        pieces
            .any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| url.to_string())
    })
}

/// An API base URL split into origin (`https://host:port`) and path prefix (`/api/v3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiBase {
    pub origin: String,
    pub prefix: String,
}

impl ApiBase {
    pub(crate) fn parse(url: &str) -> Result<ApiBase, SinkError> {
        let parsed = reqwest::Url::parse(url.trim())
            .map_err(|e| SinkError::new(format!("API URL {url} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(SinkError::new(format!(
                "API URL {url} must be http(s)://HOST[/PATH]"
            )));
        }
        Ok(ApiBase {
            origin: parsed.origin().ascii_serialization(),
            prefix: parsed.path().trim_end_matches('/').to_string(),
        })
    }

    /// The origin-relative path of an API route (`/repos/...`).
    pub(crate) fn path(&self, route: &str) -> String {
        format!("{}{route}", self.prefix)
    }

    /// A next-page URL as an origin-relative path; `None` if it points at another server.
    pub(crate) fn relative(&self, url: &str) -> Option<String> {
        if url.starts_with('/') {
            return Some(url.to_string());
        }
        let rest = url.strip_prefix(&self.origin)?;
        rest.starts_with('/').then(|| rest.to_string())
    }
}

/// Percent-encode one path segment (GitLab's `group%2Fsubgroup%2Fproject`).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every page of a list endpoint, following `Link: rel="next"` on the same server only.
pub(crate) async fn all_pages<T: Transport>(
    transport: &T,
    retry: &RetryPolicy,
    base: &ApiBase,
    first: String,
) -> Result<Vec<Value>, SinkError> {
    let mut items = Vec::new();
    let mut path = Some(first);
    let mut pages = 0;
    while let Some(current) = path.take() {
        pages += 1;
        if pages > 1000 {
            return Err(SinkError::new(format!(
                "{} kept answering with another page after 1000 pages",
                transport.platform()
            )));
        }
        let answer = call(transport, retry, Method::Get, &current, None).await?;
        match answer.json {
            Value::Array(list) => items.extend(list),
            _ => {
                return Err(SinkError::new(format!(
                    "{} answered GET {} with JSON that is not a list",
                    transport.platform(),
                    strip_query(&current)
                )))
            }
        }
        if let Some(next) = answer.next {
            match base.relative(&next) {
                Some(p) => path = Some(p),
                None => {
                    return Err(SinkError::new(format!(
                        "{} sent a next-page link to another server; not following it",
                        transport.platform()
                    )))
                }
            }
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_give_the_next_page() {
        let link = r#"<https://api.github.com/repositories/1/issues/2/comments?page=2>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1/issues/2/comments?page=2")
        );
        assert_eq!(next_link(r#"<https://x/y?page=1>; rel="prev""#), None);
    }

    #[test]
    fn api_bases_keep_their_prefix_and_refuse_other_hosts() {
        let base = ApiBase::parse("https://ghe.example.com/api/v3/").unwrap();
        assert_eq!(base.path("/user"), "/api/v3/user");
        assert_eq!(
            base.relative("https://ghe.example.com/api/v3/x?page=2")
                .as_deref(),
            Some("/api/v3/x?page=2")
        );
        assert_eq!(base.relative("https://evil.example.com/api/v3/x"), None);
        assert!(ApiBase::parse("ftp://x").is_err());
    }

    #[test]
    fn gitlab_paths_are_encoded() {
        assert_eq!(
            encode_segment("group/sub group/proj"),
            "group%2Fsub%20group%2Fproj"
        );
    }

    #[test]
    fn waits_grow_and_stay_bounded() {
        let p = RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(100),
            max_wait: Duration::from_millis(300),
        };
        assert_eq!(p.wait(0, None), Duration::from_millis(100));
        assert_eq!(p.wait(1, None), Duration::from_millis(200));
        assert_eq!(p.wait(5, None), Duration::from_millis(300));
        assert_eq!(
            p.wait(0, Some(Duration::from_secs(60))),
            Duration::from_millis(300)
        );
        let zero = RetryPolicy {
            base: Duration::ZERO,
            ..p
        };
        assert_eq!(zero.wait(3, Some(Duration::from_secs(60))), Duration::ZERO);
    }
}
