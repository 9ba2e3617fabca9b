//! A small HTTP/1.1 server on 127.0.0.1 for the sink tests: fake GitHub and GitLab endpoints
//! (comments and notes with `Link` pagination, create, update, delete, labels, statuses, who
//! the token is), every request recorded, canned failures served first when queued, and hostile
//! behaviours ([`Misbehaviour`]: never answering, a body dribbled byte by byte, any answer
//! forever) for the routes they are set on. Each connection is served on a thread of its own;
//! dropping the server stops and joins them all.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The raw request target: path and query, exactly as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What the fake does, for every request to a route, instead of answering normally.
#[derive(Debug, Clone)]
pub enum Misbehaviour {
    /// Accept the connection, read the request, and never answer.
    Silent,
    /// A 200 JSON answer whose body comes one byte per `every`.
    Dribble { every: Duration },
    /// The same answer every time (a 500 forever, a 429 with `Retry-After: 3600`).
    Always {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
}

/// The longest a misbehaving connection is held, whatever the client does.
const HOLD_AT_MOST: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    pub author: String,
    pub body: String,
}

/// What the fake platform holds.
#[derive(Debug, Default)]
pub struct State {
    pub comments: Vec<Comment>,
    pub labels: Vec<String>,
    pub statuses: Vec<Value>,
    pub requests: Vec<Recorded>,
    /// Served, one per request, before any normal handling.
    pub canned: VecDeque<Canned>,
    /// For every request whose path contains the text ("" matches all), after the canned ones.
    pub misbehave: Vec<(String, Misbehaviour)>,
    pub next_id: u64,
    /// The login (GitHub) or username (GitLab) the token belongs to; comments it creates are
    /// written by it.
    pub me: String,
    /// `GET /user` answers 403 (a GitHub App installation token, the Actions token, a GitLab
    /// job token).
    pub user_refused: bool,
    /// What GitHub's GraphQL `viewer { login }` answers; `None`: a GraphQL error.
    pub viewer: Option<String>,
    /// Approvals: who wrote the pull request (empty: `alice`).
    pub pr_author: String,
    /// Comments changed after they were written (their `updated_at` is later).
    pub edited: Vec<u64>,
    /// Comments on other pull requests: (number, comment).
    pub elsewhere: Vec<(u64, Comment)>,
    /// Team (or group) memberships: (`org/team`, login, state).
    pub members: Vec<(String, String, String)>,
    /// The CODEOWNERS file of the base branch `main`, at `.github/CODEOWNERS` or `CODEOWNERS`.
    pub codeowners: Option<String>,
}

impl State {
    fn author(&self) -> &str {
        if self.pr_author.is_empty() {
            "alice"
        } else {
            &self.pr_author
        }
    }

    fn member_state(&self, team: &str, user: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(t, u, _)| t == team && u == user)
            .map(|(_, _, state)| state.as_str())
    }

    /// The comments of pull request `n`: ours (7) are `comments`, others come from `elsewhere`.
    fn comments_of(&self, n: &str) -> Vec<&Comment> {
        let mut out: Vec<&Comment> = self.comments.iter().collect();
        out.extend(
            self.elsewhere
                .iter()
                .filter(|(pr, _)| pr.to_string() == n)
                .map(|(_, c)| c),
        );
        out
    }
}

/// When the fake says a comment was written (and last changed, when edited).
fn times(id: u64, edited: bool) -> (String, String) {
    let at = |minute: u64| format!("2026-12-02T08:{:02}:{:02}Z", minute, id % 60);
    (at(0), at(if edited { 30 } else { 0 }))
}

/// A user id for GitLab, stable per username.
pub fn user_id(name: &str) -> u64 {
    if name == BOT_LOGIN {
        return BOT_ID;
    }
    100 + name.bytes().map(u64::from).sum::<u64>()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    GitHub,
    GitLab,
}

pub struct FakeServer {
    pub port: u16,
    pub state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

pub const TOKEN: &str = "tok-SECRET-4242-xyz";
pub const BOT_LOGIN: &str = "plangate-bot";
pub const BOT_ID: u64 = 42;
/// Comments per page: small, so that a few comments already span pages.
pub const PAGE_SIZE: usize = 2;
pub const GITHUB_PREFIX: &str = "/api/v3";
pub const GITLAB_PROJECT: &str = "acme%2Fplatform%2Finfra";

impl FakeServer {
    pub fn start(flavor: Flavor) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(Mutex::new(State {
            next_id: 1000,
            me: BOT_LOGIN.into(),
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut connections = Vec::new();
            // Bounded: a test never needs more than this many requests.
            for stream in listener.incoming().take(5000) {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let (s, st) = (s.clone(), st.clone());
                    connections.push(std::thread::spawn(move || {
                        let _ = serve(stream, &s, &st, flavor, port);
                    }));
                }
            }
            for c in connections {
                let _ = c.join();
            }
        });
        FakeServer {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn github_api(&self) -> String {
        format!("{}{GITHUB_PREFIX}", self.url())
    }

    pub fn gitlab_api(&self) -> String {
        format!("{}/api/v4", self.url())
    }

    pub fn queue(&self, status: u16, content_type: &'static str, body: &str) {
        self.push(status, content_type, &[], body);
    }

    /// A canned JSON answer with extra headers (`Retry-After`, ...).
    pub fn queue_with_headers(&self, status: u16, headers: &[(&str, &str)], body: &str) {
        self.push(status, "application/json", headers, body);
    }

    fn push(&self, status: u16, content_type: &'static str, headers: &[(&str, &str)], body: &str) {
        self.state.lock().unwrap().canned.push_back(Canned {
            status,
            content_type,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
        });
    }

    /// Misbehave on every request whose path contains `route` ("" for all of them).
    pub fn misbehave(&self, route: &str, how: Misbehaviour) {
        self.state
            .lock()
            .unwrap()
            .misbehave
            .push((route.into(), how));
    }

    pub fn add_comment(&self, author: &str, body: &str) -> u64 {
        let mut s = self.state.lock().unwrap();
        s.next_id += 1;
        let id = s.next_id;
        s.comments.push(Comment {
            id,
            author: author.into(),
            body: body.into(),
        });
        id
    }

    pub fn comments(&self) -> Vec<Comment> {
        self.state.lock().unwrap().comments.clone()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What one connection gets.
enum Reply {
    Normal(Answer),
    Misbehave(Misbehaviour),
}

fn serve(
    stream: TcpStream,
    state: &Mutex<State>,
    stop: &AtomicBool,
    flavor: Flavor,
    port: u16,
) -> std::io::Result<()> {
    let request = read_request(&stream)?;
    let reply = {
        let mut s = state.lock().unwrap();
        s.requests.push(request.clone());
        let misbehaviour = s
            .misbehave
            .iter()
            .find(|(route, _)| request.path().contains(route.as_str()))
            .map(|(_, how)| how.clone());
        match (s.canned.pop_front(), misbehaviour) {
            (Some(c), _) => Reply::Normal((c.status, c.content_type, c.headers, c.body)),
            (None, Some(how)) => Reply::Misbehave(how),
            (None, None) => Reply::Normal(match flavor {
                Flavor::GitHub => github(&request, &mut s, port),
                Flavor::GitLab => gitlab(&request, &mut s, port),
            }),
        }
    };
    let mut out = stream;
    match reply {
        Reply::Normal((status, content_type, extra, body)) => {
            write_answer(&mut out, status, content_type, &extra, &body)
        }
        Reply::Misbehave(Misbehaviour::Always {
            status,
            headers,
            body,
        }) => write_answer(&mut out, status, "application/json", &headers, &body),
        Reply::Misbehave(Misbehaviour::Silent) => {
            hold(stop, |_| Ok(true));
            Ok(())
        }
        Reply::Misbehave(Misbehaviour::Dribble { every }) => dribble(&mut out, stop, every),
    }
}

fn read_request(stream: &TcpStream) -> std::io::Result<Recorded> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(std::io::Error::other("no request line"));
    };
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Recorded {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into(),
    })
}

fn write_answer(
    out: &mut TcpStream,
    status: u16,
    content_type: &str,
    extra: &[(String, String)],
    body: &str,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body.as_bytes())?;
    out.flush()
}

/// Call `step` every 50 ms with the time held so far until it says stop (false or an error),
/// the server stops, or [`HOLD_AT_MOST`] has passed.
fn hold(stop: &AtomicBool, mut step: impl FnMut(Duration) -> std::io::Result<bool>) {
    let start = Instant::now();
    while !stop.load(Ordering::SeqCst) && start.elapsed() < HOLD_AT_MOST {
        match step(start.elapsed()) {
            Ok(true) => std::thread::sleep(Duration::from_millis(50)),
            Ok(false) | Err(_) => return,
        }
    }
}

/// A well-formed 200 answer whose body (an empty JSON list, padded) comes byte by byte.
fn dribble(out: &mut TcpStream, stop: &AtomicBool, every: Duration) -> std::io::Result<()> {
    let body = format!("[{}]", " ".repeat(200));
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    out.write_all(head.as_bytes())?;
    out.flush()?;
    let mut sent = 0;
    let mut next = Duration::ZERO;
    hold(stop, |held| {
        if held >= next {
            out.write_all(&body.as_bytes()[sent..sent + 1])?;
            out.flush()?;
            sent += 1;
            next += every;
        }
        Ok(sent < body.len())
    });
    Ok(())
}

type Answer = (u16, &'static str, Vec<(String, String)>, String);

fn json_answer(status: u16, v: Value) -> Answer {
    (status, "application/json", Vec::new(), v.to_string())
}

fn page_of(req: &Recorded) -> usize {
    req.target
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
}

fn paged(req: &Recorded, items: Vec<Value>, port: u16) -> Answer {
    let page = page_of(req);
    let start = (page - 1) * PAGE_SIZE;
    let chunk: Vec<Value> = items.iter().skip(start).take(PAGE_SIZE).cloned().collect();
    let mut extra = Vec::new();
    if start + PAGE_SIZE < items.len() {
        let base = req.target.split('?').next().unwrap_or_default();
        extra.push((
            "Link".to_string(),
            format!(
                "<http://127.0.0.1:{port}{base}?per_page=100&page={}>; rel=\"next\", <http://127.0.0.1:{port}{base}?page=1>; rel=\"first\"",
                page + 1
            ),
        ));
    }
    (
        200,
        "application/json",
        extra,
        Value::Array(chunk).to_string(),
    )
}

fn body_of(req: &Recorded) -> String {
    serde_json::from_str::<Value>(&req.body)
        .ok()
        .and_then(|v| v.get("body").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default()
}

fn github(req: &Recorded, s: &mut State, port: u16) -> Answer {
    if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return json_answer(401, json!({"message": "Bad credentials"}));
    }
    let path = req.path().to_string();
    if req.method == "POST" && path == "/api/graphql" {
        return json_answer(200, viewer(req, s));
    }
    let Some(route) = path.strip_prefix(GITHUB_PREFIX) else {
        return json_answer(404, json!({"message": "Not Found"}));
    };
    let segments: Vec<&str> = route.trim_start_matches('/').split('/').collect();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["user"]) if s.user_refused => json_answer(
            403,
            json!({"message": "Resource not accessible by integration"}),
        ),
        ("GET", ["user"]) => json_answer(200, json!({"login": s.me, "type": "User"})),
        ("GET", ["repos", _, _, "issues", n, "comments"]) => {
            let items = s
                .comments_of(n)
                .into_iter()
                .map(|c| {
                    let mut v = comment_json(c);
                    let (created, updated) = times(c.id, s.edited.contains(&c.id));
                    v["created_at"] = json!(created);
                    v["updated_at"] = json!(updated);
                    v
                })
                .collect();
            paged(req, items, port)
        }
        ("GET", ["orgs", org, "teams", team, "memberships", user]) => {
            match s.member_state(&format!("{org}/{team}"), user) {
                Some(state) => json_answer(200, json!({"state": state, "role": "member"})),
                None => json_answer(404, json!({"message": "Not Found"})),
            }
        }
        ("GET", ["repos", _, _, "contents", ..]) => codeowners_answer(req, s, "/contents/"),
        ("POST", ["repos", _, _, "issues", _, "comments"]) => {
            s.next_id += 1;
            let c = Comment {
                id: s.next_id,
                author: s.me.clone(),
                body: body_of(req),
            };
            let v = comment_json(&c);
            s.comments.push(c);
            json_answer(201, v)
        }
        ("PATCH", ["repos", _, _, "issues", "comments", id]) => {
            let body = body_of(req);
            match s.comments.iter_mut().find(|c| c.id.to_string() == *id) {
                Some(c) => {
                    c.body = body;
                    let v = comment_json(c);
                    json_answer(200, v)
                }
                None => json_answer(404, json!({"message": "Not Found"})),
            }
        }
        ("DELETE", ["repos", _, _, "issues", "comments", id]) => {
            s.comments.retain(|c| c.id.to_string() != *id);
            (204, "application/json", Vec::new(), String::new())
        }
        ("GET", ["repos", _, _, "issues", _, "labels"]) => {
            let items = s.labels.iter().map(|l| json!({"name": l})).collect();
            paged(req, items, port)
        }
        ("GET", ["repos", _, _, "pulls", _]) => json_answer(
            200,
            json!({"head": {"sha": "feedface"}, "user": {"login": s.author()}, "base": {"ref": "main"}}),
        ),
        ("POST", ["repos", _, _, "statuses", sha]) => {
            let mut v: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
            v["sha"] = Value::String(sha.to_string());
            s.statuses.push(v.clone());
            json_answer(201, v)
        }
        _ => json_answer(404, json!({"message": "Not Found"})),
    }
}

/// A GitHub comment as the REST API shows it: an app's bot is a `Bot` and the comment says
/// which app it was performed via.
fn comment_json(c: &Comment) -> Value {
    let mut v = json!({"id": c.id, "body": c.body,
        "user": {"login": c.author, "type": "User"},
        "performed_via_github_app": null,
        "html_url": format!("https://github.example/acme/infra/pull/7#issuecomment-{}", c.id)});
    if let Some(app) = c.author.strip_suffix("[bot]") {
        v["user"]["type"] = json!("Bot");
        v["performed_via_github_app"] = json!({"slug": app, "name": app});
    }
    v
}

/// GitHub's GraphQL endpoint, which here only knows `viewer { login }`.
fn viewer(req: &Recorded, s: &State) -> Value {
    let asks_viewer = serde_json::from_str::<Value>(&req.body)
        .ok()
        .and_then(|v| v.get("query").and_then(Value::as_str).map(str::to_string))
        .is_some_and(|q| q.contains("viewer") && q.contains("login"));
    match (&s.viewer, asks_viewer) {
        (Some(login), true) => json!({"data": {"viewer": {"login": login}}}),
        _ => {
            json!({"data": null, "errors": [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]})
        }
    }
}

fn gitlab(req: &Recorded, s: &mut State, port: u16) -> Answer {
    if req.header("private-token") != Some(TOKEN) {
        return json_answer(401, json!({"message": "401 Unauthorized"}));
    }
    let path = req.path().to_string();
    let Some(route) = path.strip_prefix("/api/v4/") else {
        return json_answer(404, json!({"message": "404 Not Found"}));
    };
    let segments: Vec<&str> = route.split('/').collect();
    let edited = s.edited.clone();
    let note_json = |c: &Comment| {
        let (created, updated) = times(c.id, edited.contains(&c.id));
        let last_edited = (created != updated).then(|| updated.clone());
        json!({"id": c.id, "body": c.body, "system": false,
            "author": {"id": user_id(&c.author), "username": c.author},
            "created_at": created, "updated_at": updated, "last_edited_at": last_edited})
    };
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["user"]) if s.user_refused => {
            json_answer(403, json!({"message": "403 Forbidden"}))
        }
        ("GET", ["user"]) => json_answer(200, json!({"id": BOT_ID, "username": BOT_LOGIN})),
        ("GET", ["projects", p, "merge_requests", _]) if *p == GITLAB_PROJECT => json_answer(
            200,
            json!({"labels": s.labels, "sha": "c0ffee", "author": {"username": s.author()}, "target_branch": "main"}),
        ),
        ("GET", ["groups", group, "members", "all", id]) => {
            let group = group.replace("%2F", "/");
            let found = s
                .members
                .iter()
                .find(|(t, u, _)| *t == group && user_id(u).to_string() == *id);
            match found {
                Some((_, _, state)) => json_answer(200, json!({"id": id, "state": state})),
                None => json_answer(404, json!({"message": "404 Not found"})),
            }
        }
        ("GET", ["projects", p, "repository", "files", _]) if *p == GITLAB_PROJECT => {
            codeowners_answer(req, s, "/files/")
        }
        ("GET", ["projects", p, "merge_requests", n, "notes"]) if *p == GITLAB_PROJECT => {
            let mut items: Vec<Value> = s.comments_of(n).into_iter().map(note_json).collect();
            items.insert(0, json!({"id": 1, "body": "added 1 commit", "system": true, "author": {"id": BOT_ID}}));
            paged(req, items, port)
        }
        ("POST", ["projects", p, "merge_requests", _, "notes"]) if *p == GITLAB_PROJECT => {
            s.next_id += 1;
            let c = Comment {
                id: s.next_id,
                author: BOT_LOGIN.into(),
                body: body_of(req),
            };
            let v = note_json(&c);
            s.comments.push(c);
            json_answer(201, v)
        }
        ("PUT", ["projects", p, "merge_requests", _, "notes", id]) if *p == GITLAB_PROJECT => {
            let body = body_of(req);
            match s.comments.iter_mut().find(|c| c.id.to_string() == *id) {
                Some(c) => {
                    c.body = body;
                    let v = note_json(c);
                    json_answer(200, v)
                }
                None => json_answer(404, json!({"message": "404 Not Found"})),
            }
        }
        ("DELETE", ["projects", p, "merge_requests", _, "notes", id]) if *p == GITLAB_PROJECT => {
            s.comments.retain(|c| c.id.to_string() != *id);
            (204, "application/json", Vec::new(), String::new())
        }
        ("POST", ["projects", p, "statuses", sha]) if *p == GITLAB_PROJECT => {
            let mut v: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
            v["sha"] = Value::String(sha.to_string());
            s.statuses.push(v.clone());
            json_answer(201, v)
        }
        _ => json_answer(404, json!({"message": "404 Not Found"})),
    }
}

/// The CODEOWNERS file, when asked for at the root or under `.github/` on `main`.
fn codeowners_answer(req: &Recorded, s: &State, after: &str) -> Answer {
    use base64::Engine as _;
    let file = req
        .path()
        .split_once(after)
        .map(|(_, f)| f.replace("%2F", "/"))
        .unwrap_or_default();
    let on_main = req.target.contains("ref=main");
    match (&s.codeowners, on_main, file.as_str()) {
        (Some(text), true, ".github/CODEOWNERS" | "CODEOWNERS") => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            json_answer(200, json!({"content": encoded, "encoding": "base64"}))
        }
        _ => json_answer(404, json!({"message": "Not Found"})),
    }
}

/// A plan with a cross-environment destroy (blocked) and an untagged delete (warning).
pub const BLOCKING_PLAN: &str = r#"{"format_version":"1.2","terraform_version":"1.9.0","complete":true,
 "resource_changes":[
  {"address":"aws_instance.web[0]","mode":"managed","type":"aws_instance","name":"web","index":0,"change":{"actions":["delete"],"before":{"tags":{"env":"dev"}},"after":null}},
  {"address":"aws_instance.web[1]","mode":"managed","type":"aws_instance","name":"web","index":1,"change":{"actions":["delete"],"before":{"tags":{"env":"dev"}},"after":null}},
  {"address":"aws_s3_bucket.logs","mode":"managed","type":"aws_s3_bucket","name":"logs","change":{"actions":["delete"],"before":{"bucket":"x"},"after":null}}
 ]}"#;

/// A plan that only updates.
pub const PASSING_PLAN: &str = r#"{"format_version":"1.2","terraform_version":"1.9.0","complete":true,
 "resource_changes":[
  {"address":"aws_iam_role.ci","mode":"managed","type":"aws_iam_role","name":"ci","change":{"actions":["update"],"before":{},"after":{}}}
 ]}"#;

pub fn write_plan(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write plan");
    path
}

/// Run the binary in `dir` with exactly the given environment (nothing inherited but PATH),
/// retrying without waiting, reading the comment back after 20-40 ms, and at most two
/// minutes.
pub fn plangate(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut with_backoff = vec![
        ("PLANGATE_HTTP_BACKOFF_MS", "0"),
        ("PLANGATE_COMMENT_SETTLE_MS", "20"),
    ];
    with_backoff.extend_from_slice(env);
    plangate_within(dir, args, &with_backoff, Duration::from_secs(120)).0
}

/// Run the binary in `dir` with exactly the given environment (nothing inherited but PATH);
/// killed, and the test failed, if it takes longer than `limit`. Returns how long it took.
pub fn plangate_within(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    limit: Duration,
) -> (Output, Duration) {
    use wait_timeout::ChildExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plangate"));
    cmd.current_dir(dir).args(args).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("run plangate");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = match child.wait_timeout(limit).expect("wait for plangate") {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.join().unwrap_or_default();
            panic!(
                "plangate still ran after {limit:?} and was killed; stderr:\n{}",
                String::from_utf8_lossy(&err)
            );
        }
    };
    let took = start.elapsed();
    let output = Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    (output, took)
}
