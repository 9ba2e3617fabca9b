//! What the GitHub and GitLab clients share: one reqwest client per run that sends a request
//! with the platform's credential header, how an answer is judged (a 200 HTML page is an error,
//! 5xx and rate limits are retried with bounded backoff through `backon`, 401/403 get a message
//! that says what to fix), `Link` pagination (`parse_link_header`) and path encoding
//! (`percent-encoding`).

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use super::ForgeError;

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

    fn reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

/// An answer as the clients need it: status, body, and the headers that steer retries and pages.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: String,
    pub link: Option<String>,
    pub retry_after: Option<Duration>,
    /// The platform's rate-limit counter says none are left (GitHub's primary rate limit
    /// answers 403 or 429 with `x-ratelimit-remaining: 0`).
    pub rate_limit_exhausted: bool,
}

/// A parsed JSON answer and the next page, if any (a URL as the server sent it).
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
    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.base)
            .with_max_delay(self.max_wait)
            .with_factor(2.0)
            .with_max_times(self.attempts.max(1) as usize - 1)
    }

    /// The wait before the next try: the backoff's, or what `Retry-After` asked for, never
    /// more than `max_wait`; nothing at all when the base is zero.
    fn wait(&self, backoff: Option<Duration>, retry_after: Option<Duration>) -> Option<Duration> {
        let backoff = backoff?;
        if self.base.is_zero() {
            return Some(Duration::ZERO);
        }
        Some(retry_after.unwrap_or(backoff).min(self.max_wait))
    }
}

/// One platform's API: where it is, which header carries the credential, and how it names its
/// rate-limit counter. Every request goes to `origin`: paths are origin-relative, so a
/// credential is never sent to another host (redirects are not followed either).
pub(crate) struct Api {
    /// "GitHub" or "GitLab", for messages.
    pub platform: &'static str,
    /// Which variables may hold the token, for messages.
    pub token_hint: &'static str,
    pub base: ApiBase,
    client: reqwest::Client,
    auth: (HeaderName, HeaderValue),
    extra_headers: Vec<(HeaderName, HeaderValue)>,
    rate_limit_header: &'static str,
    retry: RetryPolicy,
}

/// What an [`Api`] is built from.
pub(crate) struct ApiSpec<'a> {
    pub platform: &'static str,
    pub token_hint: &'static str,
    pub api_url: &'a str,
    pub auth_header: &'static str,
    /// The header value, credential included (`Bearer ...`); marked sensitive.
    pub auth_value: String,
    pub extra_headers: &'a [(&'static str, &'static str)],
    pub rate_limit_header: &'static str,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl Api {
    pub(crate) fn new(spec: ApiSpec<'_>) -> Result<Api, ForgeError> {
        let base = ApiBase::parse(spec.api_url)?;
        let client = reqwest::Client::builder()
            .timeout(spec.timeout)
            .connect_timeout(spec.timeout)
            .user_agent(concat!("plangate/", env!("CARGO_PKG_VERSION")))
            // A redirect could carry the token to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                ForgeError::new(format!(
                    "cannot set up the {} client: {}",
                    spec.platform,
                    describe(&e)
                ))
            })?;
        let mut value = HeaderValue::from_str(&spec.auth_value).map_err(|_| {
            ForgeError::new(format!(
                "the {} token holds characters a header cannot carry",
                spec.platform
            ))
        })?;
        value.set_sensitive(true);
        let extra_headers = spec
            .extra_headers
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect();
        Ok(Api {
            platform: spec.platform,
            token_hint: spec.token_hint,
            base,
            client,
            auth: (HeaderName::from_static(spec.auth_header), value),
            extra_headers,
            rate_limit_header: spec.rate_limit_header,
            retry: spec.retry,
        })
    }

    /// The origin-relative path of an API route (`/repos/...`).
    pub(crate) fn path(&self, route: &str) -> String {
        self.base.path(route)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let url = format!("{}{path}", self.base.origin);
        let mut request = self
            .client
            .request(method.reqwest(), url)
            .header(self.auth.0.clone(), self.auth.1.clone());
        for (k, v) in &self.extra_headers {
            request = request.header(k.clone(), v.clone());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        // reqwest's errors may carry the URL, never the headers.
        let response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let link = header("link");
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let rate_limit_exhausted = header(self.rate_limit_header).as_deref() == Some("0");
        let body = response.text().await.map_err(|e| describe(&e))?;
        Ok(Reply {
            status,
            body,
            link,
            retry_after,
            rate_limit_exhausted,
        })
    }

    /// Send with retries and judge the answer.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ForgeError> {
        let what = format!("{} {}", method.as_str(), strip_query(path));
        let attempts = self.retry.attempts.max(1);
        let attempt = || async {
            match self.send(method, path, body).await {
                Ok(reply) => match judge(self, &what, reply) {
                    Judgement::Done(answer) => Ok(answer),
                    Judgement::Retry(why, retry_after) => Err(Failure::Retry(why, retry_after)),
                    Judgement::Fail(e) => Err(Failure::Final(e)),
                },
                Err(e) => Err(Failure::Retry(format!("{what}: {e}"), None)),
            }
        };
        let outcome = attempt
            .retry(self.retry.backoff())
            .sleep(tokio::time::sleep)
            .when(|f| matches!(f, Failure::Retry(..)))
            .adjust(|f, backoff| {
                let retry_after = match f {
                    Failure::Retry(_, after) => *after,
                    Failure::Final(_) => None,
                };
                self.retry.wait(backoff, retry_after)
            })
            .await;
        outcome.map_err(|f| match f {
            Failure::Final(e) => e,
            Failure::Retry(last, _) => {
                ForgeError::new(format!("{last} (gave up after {attempts} tries)"))
            }
        })
    }

    /// Every page of a list endpoint, following `Link: rel="next"` on the same server only.
    pub(crate) async fn all_pages(&self, first: String) -> Result<Vec<Value>, ForgeError> {
        let mut items = Vec::new();
        let mut path = Some(first);
        let mut pages = 0;
        while let Some(current) = path.take() {
            pages += 1;
            if pages > 1000 {
                return Err(ForgeError::new(format!(
                    "{} kept answering with another page after 1000 pages",
                    self.platform
                )));
            }
            let answer = self.call(Method::Get, &current, None).await?;
            match answer.json {
                Value::Array(list) => items.extend(list),
                _ => {
                    return Err(ForgeError::new(format!(
                        "{} answered GET {} with JSON that is not a list",
                        self.platform,
                        strip_query(&current)
                    )))
                }
            }
            if let Some(next) = answer.next {
                match self.base.relative(&next) {
                    Some(p) => path = Some(p),
                    None => {
                        return Err(ForgeError::new(format!(
                            "{} sent a next-page link to another server; not following it",
                            self.platform
                        )))
                    }
                }
            }
        }
        Ok(items)
    }
}

/// Why a try did not give an answer.
enum Failure {
    Retry(String, Option<Duration>),
    Final(ForgeError),
}

enum Judgement {
    Done(Answer),
    Retry(String, Option<Duration>),
    Fail(ForgeError),
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // The innermost cause: the outer ones repeat the URL.
    let mut detail = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        detail = "no detail".into();
    }
    format!("{kind}: {detail}")
}

fn judge(api: &Api, what: &str, reply: Reply) -> Judgement {
    let platform = api.platform;
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
        401 => Judgement::Fail(ForgeError::new(format!(
            "{platform} rejected the token (401 Unauthorized) on {what}: check {}",
            api.token_hint
        ))),
        403 | 429 if reply.rate_limit_exhausted || reply.retry_after.is_some() || status == 429 => {
            Judgement::Retry(format!("{platform} rate limit hit ({status}) on {what}"), reply.retry_after)
        }
        403 => Judgement::Fail(ForgeError::new(format!(
            "{platform} refused {what} (403 Forbidden{}): the token lacks permission on this repository or pull request; pull requests from forks get a read-only token (give the job write permission on pull requests, or set {})",
            server_message(&reply.body).map(|m| format!(": {m}")).unwrap_or_default(),
            api.token_hint
        ))),
        404 => Judgement::Fail(ForgeError::new(format!(
            "{platform} answered 404 Not Found on {what}: check --repo, --pr and the API URL, and that the token can see the repository"
        ))),
        500..=599 => Judgement::Retry(format!("{platform} answered {status} on {what}"), reply.retry_after),
        _ => Judgement::Fail(ForgeError::new(format!(
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

/// An API base URL split into origin (`https://host:port`) and path prefix (`/api/v3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiBase {
    pub origin: String,
    pub prefix: String,
}

impl ApiBase {
    pub(crate) fn parse(url: &str) -> Result<ApiBase, ForgeError> {
        let parsed = reqwest::Url::parse(url.trim())
            .map_err(|e| ForgeError::new(format!("API URL {url} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ForgeError::new(format!(
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

/// Characters a path segment keeps: RFC 3986's unreserved set.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encode one path segment (GitLab's `group%2Fsubgroup%2Fproject`).
pub(crate) fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// The `rel="next"` URL of a `Link` header.
pub(crate) fn next_link(link: &str) -> Option<String> {
    parse_link_header::parse_with_rel(link)
        .ok()?
        .remove("next")
        .map(|l| l.raw_uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backon::BackoffBuilder;

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
        let waits: Vec<u128> = p.backoff().build().map(|d| d.as_millis()).collect();
        assert_eq!(
            waits,
            [100, 200, 300, 300],
            "four retries after the first try, doubling up to the cap"
        );
        let w = |b, ra| p.wait(Some(b), ra);
        assert_eq!(
            w(Duration::from_millis(100), Some(Duration::from_secs(60))),
            Some(Duration::from_millis(300))
        );
        assert_eq!(
            p.wait(None, Some(Duration::from_secs(1))),
            None,
            "no tries left"
        );
        let zero = RetryPolicy {
            base: Duration::ZERO,
            ..p
        };
        assert_eq!(
            zero.wait(Some(Duration::from_secs(1)), Some(Duration::from_secs(60))),
            Some(Duration::ZERO)
        );
    }
}
