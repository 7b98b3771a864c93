//! HTTP as a room sees it: the request that opened a WebSocket, and the
//! requests and answers of [`Room::on_request`](crate::Room::on_request).
//!
//! Header names are lowercase both ways: the host lowercases the names it
//! passes in, and [`Response::with_header`] lowercases the names it adds.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::partyhost::room::types as wit;

/// One HTTP header as a lowercase name and a value.
pub type Header = (String, String);

/// The HTTP request that opened a WebSocket connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// The request's path and query, as the client sent them.
    pub url: String,
    /// The request's headers.
    pub headers: Vec<Header>,
}

impl ConnectRequest {
    /// Returns the first value of header `name` (matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Returns the path of the URL, without the query.
    pub fn path(&self) -> &str {
        path_of(&self.url)
    }

    /// Returns the first value of query parameter `name`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        query_pairs(&self.url).find_map(|(key, value)| (key == name).then_some(value))
    }
}

impl From<wit::ConnectRequest> for ConnectRequest {
    fn from(request: wit::ConnectRequest) -> Self {
        ConnectRequest {
            url: request.url,
            headers: request.headers,
        }
    }
}

/// An HTTP request to the room (anything that is not a WebSocket upgrade).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, upper case (`GET`, `POST`, ...).
    pub method: String,
    /// The request's path and query, as the client sent them.
    pub url: String,
    /// The request's headers.
    pub headers: Vec<Header>,
    /// The request's body (bounded by the host's body size limit).
    pub body: Vec<u8>,
}

impl Request {
    /// Returns the first value of header `name` (matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Returns the path of the URL, without the query.
    pub fn path(&self) -> &str {
        path_of(&self.url)
    }

    /// Returns the first value of query parameter `name`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        query_pairs(&self.url).find_map(|(key, value)| (key == name).then_some(value))
    }

    /// Returns the body as text, if it is UTF-8.
    pub fn text(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.body)
    }

    /// Parses the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

impl Request {
    /// Makes a request with this method and URL, no headers and no body.
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Request {
            method: method.to_ascii_uppercase(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Makes a `GET` request for `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Request::new("GET", url)
    }

    /// Makes a `POST` request for `url` with `value` encoded as a JSON body.
    pub fn post_json<T: Serialize + ?Sized>(
        url: impl Into<String>,
        value: &T,
    ) -> Result<Self, serde_json::Error> {
        let body = serde_json::to_vec(value)?;
        Ok(Request::new("POST", url)
            .with_header("content-type", "application/json")
            .with_body(body))
    }

    /// Adds a header; the name is lowercased.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

impl Response {
    /// Returns the body as text, if it is UTF-8.
    pub fn text_body(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.body)
    }

    /// Parses the body as JSON.
    pub fn json_body<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

impl From<wit::HttpRequest> for Request {
    fn from(request: wit::HttpRequest) -> Self {
        Request {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        }
    }
}

/// The room's answer to an HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code; the host answers 500 for one outside 100..=999.
    pub status: u16,
    /// The response's headers; the host drops invalid names or values.
    pub headers: Vec<Header>,
    /// The response's body.
    pub body: Vec<u8>,
}

impl Response {
    /// Makes an empty response with this status.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Makes a `text/plain` response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Response::new(status)
            .with_header("content-type", "text/plain; charset=utf-8")
            .with_body(body.into().into_bytes())
    }

    /// Makes an `application/json` response with `value` encoded as JSON.
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Result<Self, serde_json::Error> {
        let body = serde_json::to_vec(value)?;
        Ok(Response::new(status)
            .with_header("content-type", "application/json")
            .with_body(body))
    }

    /// Adds a header; the name is lowercased.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Returns the first value of header `name` (matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl From<Response> for wit::HttpResponse {
    fn from(response: Response) -> Self {
        wit::HttpResponse {
            status: response.status,
            headers: response.headers,
            body: response.body,
        }
    }
}

fn find_header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn path_of(url: &str) -> &str {
    url.split_once('?').map_or(url, |(path, _)| path)
}

/// Yields the URL's query parameters as decoded `(name, value)` pairs, in the
/// `application/x-www-form-urlencoded` way (`+` is a space).
fn query_pairs(url: &str) -> impl Iterator<Item = (String, String)> + '_ {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes.get(i + 1..i + 3).and_then(|hex| {
            let hex = std::str::from_utf8(hex).ok()?;
            u8::from_str_radix(hex, 16).ok()
        });
        match (bytes[i], escaped) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(url: &str) -> ConnectRequest {
        ConnectRequest {
            url: url.to_owned(),
            headers: vec![("x-a".into(), "1".into())],
        }
    }

    #[test]
    fn query_decodes_percent_escapes_and_plus() {
        let req = connect("/parties/main/r?_pk=a%2Cb&name=J+D&x=%zz");
        assert_eq!(req.query("_pk").as_deref(), Some("a,b"));
        assert_eq!(req.query("name").as_deref(), Some("J D"));
        assert_eq!(req.query("x").as_deref(), Some("%zz"));
        assert_eq!(req.query("missing"), None);
    }

    #[test]
    fn query_of_a_url_without_one_is_empty() {
        let req = connect("/parties/main/r");
        assert_eq!(req.query("a"), None);
        assert_eq!(req.path(), "/parties/main/r");
    }

    #[test]
    fn headers_match_case_insensitively() {
        assert_eq!(connect("/").header("X-A"), Some("1"));
    }

    #[test]
    fn json_response_sets_content_type() {
        let response = Response::json(201, &[1, 2]).expect("a list of numbers encodes");
        assert_eq!(response.status, 201);
        assert_eq!(response.header("Content-Type"), Some("application/json"));
        assert_eq!(response.body, b"[1,2]");
    }

    #[test]
    fn with_header_lowercases_the_name() {
        let response = Response::new(405).with_header("Allow", "GET");
        assert_eq!(
            response.headers,
            vec![("allow".to_owned(), "GET".to_owned())]
        );
    }
}

/// What a before hook ([`Room::on_before_connect`],
/// [`Room::on_before_request`]) decides about a request.
///
/// [`Room::on_before_connect`]: crate::Room::on_before_connect
/// [`Room::on_before_request`]: crate::Room::on_before_request
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Let the request through, adding these headers (names lowercase); the
    /// connect or request hook sees them.
    Allow(Vec<Header>),
    /// Answer the client with this response instead.
    Reject(Response),
}

impl Admission {
    /// Lets the request through unchanged.
    pub fn allow() -> Self {
        Admission::Allow(Vec::new())
    }

    /// Lets the request through with one more header.
    pub fn allow_with_header(name: &str, value: impl Into<String>) -> Self {
        Admission::Allow(vec![(name.to_ascii_lowercase(), value.into())])
    }

    /// Refuses the request with `status` and a plain-text `body`.
    pub fn reject(status: u16, body: &str) -> Self {
        Admission::Reject(Response::text(status, body))
    }
}

impl From<Admission> for wit::Admission {
    fn from(admission: Admission) -> Self {
        match admission {
            Admission::Allow(headers) => wit::Admission::Allow(headers),
            Admission::Reject(response) => wit::Admission::Reject(response.into()),
        }
    }
}
