"""A GitHub Enterprise stand-in for the Atlantis end-to-end test: the REST and GraphQL calls
Atlantis v0.36 and plangate make, and git's smart HTTP through `git http-backend`, over TLS
on 127.0.0.1.

It keeps pull requests, comments, reactions and commit statuses in memory, and lets the test
read them. Every request is logged (method, path, status); a call it does not know is answered
404 and kept in `unknown`, so a test fails visibly instead of hanging on a half-faked API.

Routes (GitHub Enterprise puts the REST API under /api/v3 and GraphQL at /api/graphql):
  GET   /api/v3/user                                    the token's owner (plangate)
  GET   /api/v3/repos/O/R                               the repository
  GET   /api/v3/repos/O/R/pulls/N                       the pull request (Atlantis, plangate)
  GET   /api/v3/repos/O/R/pulls/N/files                 files the pull request changes
  GET   /api/v3/repos/O/R/pulls/N/reviews               reviews (apply requirement `approved`)
  GET   /api/v3/repos/O/R/issues/N/labels               labels (plangate: destroy intent)
  GET   /api/v3/repos/O/R/issues/N/comments             comments
  POST  /api/v3/repos/O/R/issues/N/comments             a new comment
  PATCH /api/v3/repos/O/R/issues/comments/ID            an edited comment (plangate)
  DELETE /api/v3/repos/O/R/issues/comments/ID           a removed copy (plangate)
  POST  /api/v3/repos/O/R/issues/comments/ID/reactions  Atlantis's reaction to a command
  POST  /api/v3/repos/O/R/statuses/SHA                  a commit status
  POST  /api/graphql                                    team membership (policy owners, allowlist)
  GET/POST /O/R.git/...                                 git clone and fetch (git http-backend)
"""

import base64
import hmac
import json
import os
import re
import ssl
import subprocess
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


class PullRequest:
    def __init__(self, repo, number, title, author, head_ref, head_sha, base_ref, base_sha, files):
        self.repo = repo
        self.number = number
        self.title = title
        self.author = author
        self.head_ref = head_ref
        self.head_sha = head_sha
        self.base_ref = base_ref
        self.base_sha = base_sha
        self.files = files  # [(status, filename)]
        self.labels = []
        self.reviews = []  # logins that approved
        self.state = "open"


class FakeGitHub:
    """The server and what it has recorded. Thread-safe: Atlantis calls it from many goroutines."""

    def __init__(self, git_root, cert_file, key_file, token, users):
        self.git_root = git_root
        self.token = token
        # login -> [team slugs], for the GraphQL teams query
        self.users = users
        self.bot_login = "atlantis-bot"
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.pulls = {}  # (owner/name, number) -> PullRequest
        self.comments = []  # dicts: id, repo, pr, user, body, created, updated
        self.statuses = []  # dicts: repo, sha, state, context, description
        self.reactions = []
        self.requests = []  # (method, path, status)
        self.unknown = []
        self.next_id = 1000
        handler = self._handler_class()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.base_url = f"https://{self.host}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)

    # --- what the test sets up and reads ----------------------------------------------------
    def add_pull(self, pull):
        with self.lock:
            self.pulls[(pull.repo, pull.number)] = pull

    def add_comment(self, repo, pr, user, body):
        """A comment written by a person (the test), as GitHub would store it."""
        with self.lock:
            return self._store_comment(repo, pr, user, body)

    def comments_of(self, repo, pr):
        with self.lock:
            return [dict(c) for c in self.comments if c["repo"] == repo and c["pr"] == pr]

    def statuses_of(self, repo, sha):
        with self.lock:
            return [dict(s) for s in self.statuses if s["repo"] == repo and s["sha"] == sha]

    def wait_for(self, predicate, deadline, what):
        """Wait until predicate() (called under the lock) returns something truthy."""
        with self.changed:
            while True:
                result = predicate()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"timed out waiting for {what}")
                self.changed.wait(timeout=min(left, 1.0))

    # --- internals --------------------------------------------------------------------------
    def _store_comment(self, repo, pr, user, body):
        self.next_id += 1
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        comment = {"id": self.next_id, "repo": repo, "pr": pr, "user": user, "body": body,
                   "created": now, "updated": now, "seq": len(self.comments)}
        self.comments.append(comment)
        self.changed.notify_all()
        return dict(comment)

    def _comment_json(self, c):
        owner_repo = c["repo"]
        return {
            "id": c["id"],
            "node_id": f"IC_{c['id']}",
            "body": c["body"],
            "user": self._user_json(c["user"]),
            "created_at": c["created"],
            "updated_at": c["updated"],
            "html_url": f"{self.base_url}/{owner_repo}/pull/{c['pr']}#issuecomment-{c['id']}",
            "issue_url": f"{self.base_url}/api/v3/repos/{owner_repo}/issues/{c['pr']}",
        }

    def _user_json(self, login):
        return {"login": login, "id": zlib.crc32(login.encode()) % 100000, "type": "User"}

    def _repo_json(self, full_name):
        owner, name = full_name.split("/", 1)
        return {
            "id": zlib.crc32(full_name.encode()) % 100000,
            "name": name,
            "full_name": full_name,
            "owner": self._user_json(owner),
            "private": True,
            "html_url": f"{self.base_url}/{full_name}",
            "clone_url": f"{self.base_url}/{full_name}.git",
            "default_branch": "main",
        }

    def _pull_json(self, p):
        return {
            "id": p.number,
            "number": p.number,
            "state": p.state,
            "title": p.title,
            "html_url": f"{self.base_url}/{p.repo}/pull/{p.number}",
            "user": self._user_json(p.author),
            "labels": [{"name": n} for n in p.labels],
            "head": {"ref": p.head_ref, "sha": p.head_sha, "repo": self._repo_json(p.repo)},
            "base": {"ref": p.base_ref, "sha": p.base_sha, "repo": self._repo_json(p.repo)},
            "mergeable": True,
            "mergeable_state": "clean",
            "draft": False,
        }

    def _authorized(self, header):
        """Atlantis sends Basic user:token; plangate sends Bearer/token TOKEN."""
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme in ("token", "bearer"):
            return hmac.compare_digest(value.strip(), self.token)
        if scheme == "basic":
            try:
                _, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
            return hmac.compare_digest(password, self.token)
        return False

    def _graphql(self, query, variables):
        """Only the query Atlantis uses for team membership (GetTeamNamesForUser)."""
        if "organization(" in query and "teams(" in query:
            logins = variables.get("userLogins") or []
            slugs = sorted({t for login in logins for t in self.users.get(login, [])})
            edges = [{"node": {"name": s, "slug": s}} for s in slugs]
            return 200, {"data": {"organization": {"teams": {
                "edges": edges, "pageInfo": {"endCursor": "", "hasNextPage": False}}}}}
        return 200, {"errors": [{"message": "query not supported by the test server"}]}

    def _api(self, method, path, query, body, auth):
        """(status, json) for a REST or GraphQL call."""
        if not self._authorized(auth):
            return 401, {"message": "Bad credentials"}
        if path == "/api/graphql" and method == "POST":
            data = json.loads(body or b"{}")
            return self._graphql(data.get("query", ""), data.get("variables") or {})
        if not path.startswith("/api/v3/"):
            return None
        rest = path[len("/api/v3"):]
        if rest == "/user" and method == "GET":
            return 200, self._user_json(self.bot_login)
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", rest)
        if not m:
            return None
        repo = f"{m.group(1)}/{m.group(2)}"
        tail = m.group(3) or ""
        with self.lock:
            if tail == "" and method == "GET":
                return 200, self._repo_json(repo)
            m2 = re.fullmatch(r"/pulls/(\d+)(/files|/reviews)?", tail)
            if m2 and method == "GET":
                pull = self.pulls.get((repo, int(m2.group(1))))
                if pull is None:
                    return 404, {"message": "Not Found"}
                if m2.group(2) == "/files":
                    return 200, [{"filename": f, "status": s} for s, f in pull.files]
                if m2.group(2) == "/reviews":
                    return 200, [{"id": i + 1, "state": "APPROVED", "user": self._user_json(u),
                                  "submitted_at": "2026-12-01T00:00:00Z"}
                                 for i, u in enumerate(pull.reviews)]
                return 200, self._pull_json(pull)
            m2 = re.fullmatch(r"/issues/(\d+)/(labels|comments)", tail)
            if m2:
                number = int(m2.group(1))
                if (repo, number) not in self.pulls:
                    return 404, {"message": "Not Found"}
                if m2.group(2) == "labels" and method == "GET":
                    return 200, [{"name": n} for n in self.pulls[(repo, number)].labels]
                if m2.group(2) == "comments" and method == "GET":
                    return 200, [self._comment_json(c) for c in self.comments
                                 if c["repo"] == repo and c["pr"] == number]
                if m2.group(2) == "comments" and method == "POST":
                    text = json.loads(body)["body"]
                    return 201, self._comment_json(
                        self._store_comment(repo, number, self.bot_login, text))
            m2 = re.fullmatch(r"/issues/comments/(\d+)(/reactions)?", tail)
            if m2:
                cid = int(m2.group(1))
                found = [c for c in self.comments if c["id"] == cid and c["repo"] == repo]
                if not found:
                    return 404, {"message": "Not Found"}
                if m2.group(2) and method == "POST":
                    content = json.loads(body).get("content")
                    self.reactions.append({"comment": cid, "content": content})
                    return 201, {"id": len(self.reactions), "content": content}
                if not m2.group(2) and method == "PATCH":
                    found[0]["body"] = json.loads(body)["body"]
                    found[0]["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                    self.changed.notify_all()
                    return 200, self._comment_json(found[0])
                if not m2.group(2) and method == "GET":
                    return 200, self._comment_json(found[0])
                if not m2.group(2) and method == "DELETE":
                    self.comments.remove(found[0])
                    self.changed.notify_all()
                    return 204, None
            m2 = re.fullmatch(r"/statuses/([0-9a-f]{40})", tail)
            if m2 and method == "POST":
                data = json.loads(body)
                status = {"repo": repo, "sha": m2.group(1), "state": data.get("state"),
                          "context": data.get("context"), "description": data.get("description"),
                          "seq": len(self.statuses)}
                self.statuses.append(status)
                self.changed.notify_all()
                return 201, {"id": len(self.statuses), **{k: status[k] for k in
                                                          ("state", "context", "description")}}
        return None

    def _git(self, handler, method, path, query, body):
        """git smart HTTP: run git http-backend as a CGI program."""
        if not self._authorized(handler.headers.get("Authorization")):
            return 401, {"WWW-Authenticate": 'Basic realm="git"'}, b"authentication required\n"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.git_root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "atlantis-bot",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
        }
        if handler.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = handler.headers["Content-Encoding"]
        if handler.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = handler.headers["Git-Protocol"]
        proc = subprocess.run([GIT_HTTP_BACKEND], input=body, env=env, capture_output=True,
                              timeout=60, check=False)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = proc.stdout.partition(b"\n\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        return status, headers, payload

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # the test keeps its own log
                pass

            def _body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _send(self, status, headers, payload):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _handle(self, method):
                url = urllib.parse.urlsplit(self.path)
                path, query = url.path, url.query
                body = self._body()
                try:
                    if re.match(r"^/[^/]+/[^/]+\.git/", path):
                        status, headers, payload = server._git(self, method, path, query, body)
                    else:
                        answer = server._api(method, path, query, body,
                                             self.headers.get("Authorization"))
                        if answer is None:
                            with server.lock:
                                server.unknown.append(f"{method} {self.path}")
                            answer = (404, {"message": "Not Found (test server)"})
                        status, data = answer
                        headers = {"Content-Type": "application/json; charset=utf-8"}
                        payload = b"" if status == 204 else json.dumps(data).encode()
                except Exception as e:  # a bug in the stand-in must show, not hang a client
                    status, headers = 500, {"Content-Type": "text/plain"}
                    payload = f"test server error: {e!r}\n".encode()
                with server.lock:
                    server.requests.append((method, self.path, status))
                self._send(status, headers, payload)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PATCH(self):
                self._handle("PATCH")

            def do_PUT(self):
                self._handle("PUT")

            def do_DELETE(self):
                self._handle("DELETE")

        return Handler
