//! REST records with the documented limits: reads of at most 200 records per
//! request, writes of at most 100, and helpers that page and chunk.

use auth_core::Error as CoreError;
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use url::Url;

use crate::{Error, Session};

/// Most records per read request.
pub const MAX_READ: usize = 200;
/// Most records per write request.
pub const MAX_WRITE: usize = 100;

/// One page of records: the entity type in `kind`, the records in `data`.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Page {
    /// `kind`.
    pub kind: String,
    /// `data`.
    #[serde(default)]
    pub data: Vec<Value>,
    /// `total`, when the server says how many there are.
    #[serde(default)]
    pub total: Option<usize>,
    /// Every other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The records of one kind (`Style`, `Material`, ...) through a [`Session`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    session: &'a Session,
    kind: String,
}

impl Session {
    /// The records of `kind`.
    pub fn records(&self, kind: &str) -> Records<'_> {
        Records {
            session: self,
            kind: kind.to_owned(),
        }
    }
}

impl Records<'_> {
    fn url(&self) -> Result<Url, Error> {
        let mut url = self.session.shared.api_url.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config("the REST base cannot take a path".into()))?
            .pop_if_empty()
            .push(&self.kind);
        Ok(url)
    }

    /// One page: `page_size` records (at most 200, else [`Error::RecordLimit`]
    /// before anything is sent) from page `page_number` (from 0).
    pub async fn page(&self, page_number: usize, page_size: usize) -> Result<Page, Error> {
        if page_size == 0 || page_size > MAX_READ {
            return Err(Error::RecordLimit {
                operation: "read",
                max: MAX_READ,
                requested: page_size,
            });
        }
        let mut url = self.url()?;
        url.query_pairs_mut()
            .append_pair("pageSize", &page_size.to_string())
            .append_pair("pageNumber", &page_number.to_string());
        let request = http::Request::get(url.as_str())
            .header(ACCEPT, "application/json")
            .body(Bytes::new());
        self.call(request).await
    }

    /// Every record, in pages of 200 (450 records: 3 requests).
    pub async fn read_all(&self) -> Result<Vec<Value>, Error> {
        let mut all = Vec::new();
        for number in 0.. {
            let page = self.page(number, MAX_READ).await?;
            let got = page.data.len();
            all.extend(page.data);
            let done = page.total.map_or(got < MAX_READ, |t| all.len() >= t);
            if done || got == 0 {
                break;
            }
        }
        Ok(all)
    }

    /// Writes up to 100 records in one request (more: [`Error::RecordLimit`], nothing
    /// sent). Returns the records as stored.
    pub async fn write_batch(&self, records: &[Value]) -> Result<Vec<Value>, Error> {
        if records.is_empty() || records.len() > MAX_WRITE {
            return Err(Error::RecordLimit {
                operation: "write",
                max: MAX_WRITE,
                requested: records.len(),
            });
        }
        let body = serde_json::to_vec(&json!({ "data": records }))
            .map_err(|e| Error::Config(format!("the records cannot be sent as JSON: {e}")))?;
        let request = http::Request::post(self.url()?.as_str())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json")
            .body(Bytes::from(body));
        let page: Page = self.call(request).await?;
        Ok(page.data)
    }

    /// Writes any number of records in requests of at most 100 (450 records: 5
    /// requests). If today's quota cannot cover every request, nothing is sent
    /// ([`Error::QuotaExceeded`]); a failure part-way is [`Error::Incomplete`],
    /// which says how many records were stored.
    pub async fn write(&self, records: &[Value]) -> Result<Vec<Value>, Error> {
        let requests = records.len().div_ceil(MAX_WRITE);
        let quota = &self.session.shared.quota;
        if usize::try_from(quota.remaining().await).unwrap_or(usize::MAX) < requests {
            return Err(quota.refusal());
        }
        let mut written = Vec::with_capacity(records.len());
        for chunk in records.chunks(MAX_WRITE) {
            match self.write_batch(chunk).await {
                Ok(stored) => written.extend(stored),
                Err(e) if written.is_empty() => return Err(e),
                Err(e) => {
                    return Err(Error::Incomplete {
                        written: written.len(),
                        total: records.len(),
                        source: Box::new(e),
                    });
                }
            }
        }
        Ok(written)
    }

    /// Sends through the session (authorized, counted) and sorts the answer with
    /// [`HttpResponse::api_answer`](auth_core::http::HttpResponse::api_answer).
    async fn call<T: DeserializeOwned>(
        &self,
        request: Result<http::Request<Bytes>, http::Error>,
    ) -> Result<T, Error> {
        let request =
            request.map_err(|e| CoreError::Request(format!("cannot build the request: {e}")))?;
        let response = self.session.send(request).await?.api_answer()?;
        Ok(response.json()?)
    }
}
