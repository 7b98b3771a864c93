//! Static files from the folder `static_dir` names, served at `/` for every
//! path that is not a room, the admin API or `/metrics`.
//!
//! Content types come from the file extension; every file has an `ETag`
//! (size and modification time), so a matching `If-None-Match` (weak or
//! strong) gets 304. A folder serves its `index.html`; asked for without its
//! trailing slash, it redirects there first, so the page's relative links
//! resolve inside it. With `spa_fallback`, a path without an extension that
//! names no file serves the root `index.html`; otherwise a missing file gets
//! the root's `404.html` (if any) with status 404. A path that would leave
//! the folder (`..`, encoded or not, or a link pointing out) and hidden
//! files (a segment starting with `.`, such as `.env` or `.git`; only
//! `.well-known` is served) are refused with 404.

use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use axum::response::IntoResponse as _;
use percent_encoding::percent_decode_str;

/// The static folder and how it answers.
#[derive(Debug, Clone)]
pub struct Assets {
    root: PathBuf,
    spa_fallback: bool,
}

/// How a request is answered.
enum Answer {
    /// With a file.
    File(Found),
    /// With a redirect to this path.
    Redirect(String),
}

/// A file chosen to answer a request.
struct Found {
    path: PathBuf,
    status: StatusCode,
}

impl Assets {
    /// Serves the folder `root`, which must exist.
    pub fn new(root: &Path, spa_fallback: bool) -> std::io::Result<Self> {
        Ok(Self {
            root: root.canonicalize()?,
            spa_fallback,
        })
    }

    /// Answers a GET or HEAD for the raw request path `path`.
    pub async fn serve(&self, method: &Method, path: &str, headers: &HeaderMap) -> Response<Body> {
        if method != Method::GET && method != Method::HEAD {
            let allow = [(header::ALLOW, "GET, HEAD")];
            return (StatusCode::METHOD_NOT_ALLOWED, allow, "method not allowed").into_response();
        }
        let found = match self.find(path) {
            Some(Answer::File(found)) => found,
            Some(Answer::Redirect(location)) => {
                let location = [(header::LOCATION, location)];
                return (StatusCode::MOVED_PERMANENTLY, location, "moved").into_response();
            }
            None => return (StatusCode::NOT_FOUND, "not found").into_response(),
        };
        match respond(&found, method, headers).await {
            Ok(response) => response,
            Err(_) => (StatusCode::NOT_FOUND, "not found").into_response(),
        }
    }

    /// Picks the answer for `path`, or `None` when nothing may answer.
    fn find(&self, path: &str) -> Option<Answer> {
        let relative = safe_relative(path)?;
        if let Some((file, in_folder)) = self.existing_file(&relative) {
            // A folder's page asked for without the slash: send the client
            // to the slash, so the page's relative links resolve inside the
            // folder. One leading slash: the target never leaves the site.
            if in_folder && !path.ends_with('/') && !relative.as_os_str().is_empty() {
                let location = format!("/{}/", path.trim_start_matches('/'));
                return Some(Answer::Redirect(location));
            }
            return Some(Answer::File(Found {
                path: file,
                status: StatusCode::OK,
            }));
        }
        let (path, status) = if self.spa_fallback && relative.extension().is_none() {
            (
                self.existing_file(Path::new("index.html"))?.0,
                StatusCode::OK,
            )
        } else {
            (
                self.existing_file(Path::new("404.html"))?.0,
                StatusCode::NOT_FOUND,
            )
        };
        Some(Answer::File(Found { path, status }))
    }

    /// Returns the file `relative` names, if it exists inside the root once
    /// links are resolved, and whether it is a folder's `index.html`.
    fn existing_file(&self, relative: &Path) -> Option<(PathBuf, bool)> {
        let mut path = self.root.join(relative).canonicalize().ok()?;
        let in_folder = path.is_dir();
        if in_folder {
            path = path.join("index.html").canonicalize().ok()?;
        }
        (path.starts_with(&self.root) && path.is_file()).then_some((path, in_folder))
    }
}

/// Decodes the path and keeps only plain segments; any `..`, root or drive
/// component means the path tries to leave the folder, and a hidden segment
/// (other than `.well-known`) is not served.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let mut relative = PathBuf::new();
    for component in Path::new(decoded.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => {
                let hidden = part.to_str().is_none_or(|p| p.starts_with('.'));
                if hidden && part != ".well-known" {
                    return None;
                }
                relative.push(part);
            }
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(relative)
}

/// Builds the answer for `found`: 304 when the client's copy is current.
async fn respond(
    found: &Found,
    method: &Method,
    headers: &HeaderMap,
) -> std::io::Result<Response<Body>> {
    let meta = tokio::fs::metadata(&found.path).await?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let etag = format!("\"{:x}-{modified:x}\"", meta.len());

    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            // If-None-Match compares weakly: `W/"x"` matches `"x"`.
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag.as_str())
        });
    let mime = mime_guess::from_path(&found.path).first_or_octet_stream();
    let mut builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, "no-cache");
    if matches && found.status == StatusCode::OK {
        let response = builder.status(StatusCode::NOT_MODIFIED).body(Body::empty());
        return Ok(response.unwrap_or_default());
    }

    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(tokio::fs::read(&found.path).await?)
    };
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        builder = builder.header(header::CONTENT_TYPE, value);
    }
    let response = builder
        .status(found.status)
        .header(header::CONTENT_LENGTH, meta.len())
        .body(body);
    Ok(response.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_folder_are_refused() {
        assert!(safe_relative("/../etc/passwd").is_none());
        assert!(safe_relative("/a/../../b").is_none());
        assert!(safe_relative("/%2e%2e/secret").is_none());
        assert!(safe_relative("/%2E%2E%2Fsecret").is_none());
        assert!(safe_relative("/a%00b").is_none());
        assert!(safe_relative("/a\\..\\b").is_none());
        assert_eq!(
            safe_relative("/css/./app.css"),
            Some(PathBuf::from("css/app.css"))
        );
        assert_eq!(safe_relative("/"), Some(PathBuf::new()));
    }

    #[test]
    fn hidden_files_are_not_served_but_well_known_is() {
        assert!(safe_relative("/.env").is_none());
        assert!(safe_relative("/.git/config").is_none());
        assert!(safe_relative("/a/%2Ehtaccess").is_none());
        assert_eq!(
            safe_relative("/.well-known/security.txt"),
            Some(PathBuf::from(".well-known/security.txt"))
        );
    }
}
