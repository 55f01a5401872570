//! REST calls: [`ApiCall`], an authorized JSON call to a path the caller names, its
//! [`Answer`], and the paging ([`Paging`]) and chunking ([`Chunking`]) helpers.
//!
//! The document names no REST method: its "API Methods" section (l. 102-110) is
//! empty. What it does say, and what this module follows:
//!
//! - "Every API request must contain the Authorization header or the access_token
//!   parameter with OAuth 2.0 token" (l. 11): every call is authorized by the
//!   [`Session`] and counted against the daily quota.
//! - "produces a JSON response that contains then entity type in the kind field and
//!   an array of entities in the data field" (l. 19), while its one "Response
//!   Example" (l. 22-27) is a bare object with neither: an [`Answer`] takes both
//!   shapes, `kind` and `data` optional.
//! - "The client can pass an additional parameter in the request, which also will be
//!   included in the response" (l. 19): [`ApiCall::echo`] sends one and
//!   [`Answer::echoed`] reads it back.
//! - "To optimize your API usage, get maximum 200 records with each request and
//!   insert, update or delete maximum 100 records with each request" (l. 121):
//!   advice, so [`ADVISED_READ`] and [`ADVISED_WRITE`] are the helpers' defaults, and
//!   asking for more logs a warning and is sent.
//!
//! Everything else (paths, verbs, the paging parameters, the body of a write) is the
//! caller's to name; the helpers' defaults for what the document leaves out are our
//! guesses and named so ([`Paging::GUESSED_SIZE_PARAM`], [`ChunkBody::GUESS`]).

use auth_core::Error as CoreError;
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use url::Url;

use crate::{Error, Session};

/// Records per read the document advises at most (l. 121): [`Paging`]'s default page
/// size. Not a limit: larger pages are sent, with a warning.
pub const ADVISED_READ: usize = 200;
/// Records per insert, update or delete the document advises at most (l. 121):
/// [`Chunking`]'s default chunk size. Not a limit: larger chunks are sent, with a
/// warning.
pub const ADVISED_WRITE: usize = 100;

/// A REST call being built: a method, a path below the REST base, query parameters,
/// an optional JSON body and the additional echoed parameter. Sent through the
/// [`Session`]: authorized, counted against the daily quota attempt by attempt.
#[derive(Debug, Clone)]
#[must_use]
pub struct ApiCall<'a> {
    session: &'a Session,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Bytes>,
    echo: Option<(String, String)>,
}

impl Session {
    /// A call of `method` to `path`, relative to the REST base
    /// (`https://developers.beproduct.com/api/v1/` by default): `"Style"` or
    /// `"Style/S45994"`. The document names no paths: they are the caller's.
    pub fn call(&self, method: Method, path: &str) -> ApiCall<'_> {
        ApiCall {
            session: self,
            method,
            path: path.to_owned(),
            query: Vec::new(),
            body: None,
            echo: None,
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> ApiCall<'_> {
        self.call(Method::GET, path)
    }

    /// `POST path`.
    pub fn post(&self, path: &str) -> ApiCall<'_> {
        self.call(Method::POST, path)
    }

    /// `PUT path`.
    pub fn put(&self, path: &str) -> ApiCall<'_> {
        self.call(Method::PUT, path)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> ApiCall<'_> {
        self.call(Method::DELETE, path)
    }
}

impl<'a> ApiCall<'a> {
    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The JSON body.
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::Config(format!("the body cannot be sent as JSON: {e}")))?;
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    /// The additional parameter the document says comes back in the response (l.
    /// 19), sent as the query parameter `name`, read back with [`Answer::echoed`].
    /// The document names neither the parameter nor where it comes back: a
    /// top-level member of the answer named `name` is our reading.
    pub fn echo(mut self, name: &str, value: &str) -> Self {
        self.echo = Some((name.to_owned(), value.to_owned()));
        self
    }

    fn url(&self) -> Result<Url, Error> {
        let base = &self.session.shared.api_url;
        let path = self.path.trim_start_matches('/');
        if path.contains(['?', '#']) {
            return Err(Error::Config(format!(
                "{path:?}: give query parameters with ApiCall::query"
            )));
        }
        let mut url = base
            .join(path)
            .map_err(|_| Error::Config(format!("{path:?} is not a path")))?;
        // A path is below the REST base, never elsewhere (`//host`, `..`, a scheme).
        if url.origin() != base.origin() || !url.path().starts_with(base.path()) {
            return Err(Error::Config(format!(
                "{path:?} is not a path below the REST base"
            )));
        }
        {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &self.query {
                pairs.append_pair(name, value);
            }
            if let Some((name, value)) = &self.echo {
                pairs.append_pair(name, value);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    fn request(&self) -> Result<http::Request<Bytes>, Error> {
        let mut request = http::Request::builder()
            .method(self.method.clone())
            .uri(self.url()?.as_str())
            .header(ACCEPT, "application/json");
        if self.body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        Ok(request
            .body(self.body.clone().unwrap_or_default())
            .map_err(|e| CoreError::Request(format!("cannot build the request: {e}")))?)
    }

    /// Sends the call and reads the answer as JSON ([`Answer`]): any 2xx, an empty
    /// body as `null`. A non-2xx status is [`Error::Api`], a redirect or an HTML page
    /// the core's error ([`HttpResponse::api_answer`](auth_core::http::HttpResponse::api_answer)).
    pub async fn send(self) -> Result<Answer, Error> {
        let response = self.session.send(self.request()?).await?.api_answer()?;
        let body = if response.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            response.json()?
        };
        Ok(Answer {
            status: response.status,
            body,
            echo: self.echo.map(|(name, _)| name),
        })
    }

    /// Sends the call and reads the whole answer as `T`.
    pub async fn send_as<T: DeserializeOwned>(self) -> Result<T, Error> {
        self.send().await?.body_as()
    }

    /// Reads every page of this call, with the paging parameters `paging` names, and
    /// returns the entities of all pages in order ([`Answer::entities`]). Each page is
    /// one request, counted against the quota. Paging ends at a page with no
    /// entities, at a page shorter than the page size (unless
    /// [`Paging::until_empty_page`]), at a page longer than it (the server ignored
    /// the paging parameters and answered everything), or after
    /// [`Paging::max_pages`].
    pub async fn pages(self, paging: &Paging) -> Result<Vec<Value>, Error> {
        if paging.size > ADVISED_READ {
            tracing::warn!(
                page_size = paging.size,
                advised = ADVISED_READ,
                "BeProduct advises reading at most 200 records per request; sending larger pages"
            );
        }
        let mut all = Vec::new();
        let mut number = paging.first;
        let mut pages = 0usize;
        loop {
            let answer = self
                .clone()
                .query(&paging.size_param, &paging.size.to_string())
                .query(&paging.number_param, &number.to_string())
                .send()
                .await?;
            let got = answer.entities();
            let count = got.len();
            all.extend(got);
            pages += 1;
            let short = count < paging.size && paging.stop_at_short_page;
            let more_than_asked = count > paging.size;
            if count == 0
                || short
                || more_than_asked
                || paging.max_pages.is_some_and(|max| pages >= max)
            {
                return Ok(all);
            }
            number += 1;
        }
    }

    /// Writes `records` in chunks of [`Chunking`]'s size, one request per chunk, each
    /// with this call's method, path and parameters and a body [`ChunkBody`] shapes.
    /// Returns each chunk's answer. If today's quota cannot cover every chunk,
    /// nothing is sent ([`Error::QuotaExceeded`]); a failure part-way is
    /// [`Error::Incomplete`], which says how many records the chunks before it
    /// carried.
    pub async fn chunks<T: Serialize>(
        self,
        records: &[T],
        chunking: &Chunking,
    ) -> Result<Vec<Answer>, Error> {
        let size = chunking.size.max(1);
        if size > ADVISED_WRITE {
            tracing::warn!(
                chunk_size = size,
                advised = ADVISED_WRITE,
                "BeProduct advises writing at most 100 records per request; sending larger chunks"
            );
        }
        let requests = records.len().div_ceil(size);
        let quota = &self.session.shared.quota;
        if usize::try_from(quota.remaining().await).unwrap_or(usize::MAX) < requests {
            return Err(quota.refusal());
        }
        let mut answers = Vec::with_capacity(requests);
        let mut written = 0;
        for chunk in records.chunks(size) {
            let call = match &chunking.body {
                ChunkBody::Array => self.clone().json(chunk)?,
                ChunkBody::Member(name) => {
                    let mut body = Map::new();
                    body.insert(
                        name.clone(),
                        serde_json::to_value(chunk).map_err(|e| {
                            Error::Config(format!("the records cannot be sent as JSON: {e}"))
                        })?,
                    );
                    self.clone().json(&body)?
                }
            };
            match call.send().await {
                Ok(answer) => {
                    written += chunk.len();
                    answers.push(answer);
                }
                Err(e) if written == 0 => return Err(e),
                Err(e) => {
                    return Err(Error::Incomplete {
                        written,
                        total: records.len(),
                        source: Box::new(e),
                    });
                }
            }
        }
        Ok(answers)
    }
}

/// A REST answer, in either shape the document shows: the envelope of l. 19
/// (`kind`, `data`) or a bare entity as in its example (l. 22-27).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Answer {
    /// The HTTP status (a 2xx).
    pub status: StatusCode,
    /// The JSON body as sent (`null` when empty).
    pub body: Value,
    echo: Option<String>,
}

impl Answer {
    /// `kind`, "the entity type" (l. 19), when the answer has one.
    pub fn kind(&self) -> Option<&str> {
        self.body.get("kind").and_then(Value::as_str)
    }

    /// `data`, "an array of entities" (l. 19), when the answer has one.
    pub fn data(&self) -> Option<&[Value]> {
        self.body
            .get("data")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
    }

    /// The entities: `data` when the answer has it; else a bare array's elements;
    /// else a bare object as the one entity (the document's example); none for
    /// `null`.
    pub fn entities(&self) -> Vec<Value> {
        if let Some(data) = self.data() {
            return data.to_vec();
        }
        match &self.body {
            Value::Null => Vec::new(),
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        }
    }

    /// The entities as `T`.
    pub fn entities_as<T: DeserializeOwned>(&self) -> Result<Vec<T>, Error> {
        self.entities()
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(invalid))
            .collect()
    }

    /// The whole body as `T`.
    pub fn body_as<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_value(self.body.clone()).map_err(invalid)
    }

    /// The additional parameter sent with [`ApiCall::echo`], as the answer carries
    /// it back (a top-level member of that name), if it does.
    pub fn echoed(&self) -> Option<&Value> {
        let name = self.echo.as_deref()?;
        self.body.get(name)
    }
}

fn invalid(e: serde_json::Error) -> Error {
    Error::from(CoreError::InvalidResponse {
        status: None,
        reason: format!("the answer is not of the expected type: {e}"),
    })
}

/// How [`ApiCall::pages`] asks for pages. The document names no paging parameters:
/// the caller gives them, and the defaults are our guess.
#[derive(Debug, Clone)]
pub struct Paging {
    size_param: String,
    number_param: String,
    size: usize,
    first: usize,
    stop_at_short_page: bool,
    max_pages: Option<usize>,
}

impl Paging {
    /// Our guess at the page size parameter's name (not the document's).
    pub const GUESSED_SIZE_PARAM: &'static str = "pageSize";
    /// Our guess at the page number parameter's name (not the document's).
    pub const GUESSED_NUMBER_PARAM: &'static str = "pageNumber";

    /// Pages of `size` records, asked with `size_param` and `number_param`, from page
    /// 0.
    pub fn new(size_param: &str, number_param: &str, size: usize) -> Self {
        Self {
            size_param: size_param.to_owned(),
            number_param: number_param.to_owned(),
            size: size.max(1),
            first: 0,
            stop_at_short_page: true,
            max_pages: None,
        }
    }

    /// The first page's number (default 0).
    #[must_use]
    pub fn first_page(mut self, number: usize) -> Self {
        self.first = number;
        self
    }

    /// Pages go on until one is empty, not only until one is short: for a server
    /// that may answer fewer records than asked before the end (one request more).
    #[must_use]
    pub fn until_empty_page(mut self) -> Self {
        self.stop_at_short_page = false;
        self
    }

    /// At most this many pages.
    #[must_use]
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = Some(pages);
        self
    }
}

impl Default for Paging {
    /// Our guess ([`GUESSED_SIZE_PARAM`](Self::GUESSED_SIZE_PARAM),
    /// [`GUESSED_NUMBER_PARAM`](Self::GUESSED_NUMBER_PARAM), from 0), in pages of the
    /// document's advised [`ADVISED_READ`].
    fn default() -> Self {
        Self::new(
            Self::GUESSED_SIZE_PARAM,
            Self::GUESSED_NUMBER_PARAM,
            ADVISED_READ,
        )
    }
}

/// The body of one chunk of a write. The document shows no request body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChunkBody {
    /// The records as a bare JSON array.
    Array,
    /// The records as the array member `name` of an object.
    Member(String),
}

impl ChunkBody {
    /// Our guess: `{"data": [...]}`, mirroring the answers' `data` (l. 19); not the
    /// document's.
    pub const GUESS: &'static str = "data";
}

/// How [`ApiCall::chunks`] splits a write.
#[derive(Debug, Clone)]
pub struct Chunking {
    size: usize,
    body: ChunkBody,
}

impl Chunking {
    /// Chunks of `size` records, each sent as `body`.
    pub fn new(size: usize, body: ChunkBody) -> Self {
        Self {
            size: size.max(1),
            body,
        }
    }
}

impl Default for Chunking {
    /// Chunks of the document's advised [`ADVISED_WRITE`], in our guessed body
    /// ([`ChunkBody::GUESS`]).
    fn default() -> Self {
        Self::new(ADVISED_WRITE, ChunkBody::Member(ChunkBody::GUESS.into()))
    }
}
