//! The App API's documented endpoints and their types: Show an Organization and Add
//! Customer, as calls on an [`Organization`].

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, Organization};

impl Organization {
    /// Show an Organization: `GET {locale}/organization/{id}/show`.
    pub async fn show(&self) -> Result<OrganizationInfo, Error> {
        let request = http::Request::get(self.url(&["show"])?.as_str())
            .header(ACCEPT, "application/json")
            .body(Bytes::new());
        self.call(request).await
    }

    /// Add Customer: `POST {locale}/organization/{id}/customer/add` with a JSON body.
    /// A `POST` is sent again only if it never reached the server.
    pub async fn add_customer(&self, customer: &NewCustomer) -> Result<Customer, Error> {
        let body = serde_json::to_vec(customer)
            .map_err(|e| Error::Config(format!("the customer cannot be sent as JSON: {e}")))?;
        let request = http::Request::post(self.url(&["customer", "add"])?.as_str())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json")
            .body(Bytes::from(body));
        self.call(request).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: Result<http::Request<Bytes>, http::Error>,
    ) -> Result<T, Error> {
        let request = request
            .map_err(|e| auth_core::Error::Request(format!("cannot build the request: {e}")))?;
        let response = self.authorized_client().send(request).await?.api_answer()?;
        Ok(response.json()?)
    }
}

/// `GET {locale}/organization/{id}/show`: an organization (`class` `ORGANIZATION`).
/// Members the types below do not name are kept in `extra`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OrganizationInfo {
    /// `class` (`ORGANIZATION`).
    pub class: String,
    /// `id`.
    pub id: String,
    /// `customId`, as sent (a number in the documentation's example).
    #[serde(default)]
    pub custom_id: Value,
    /// `name`.
    pub name: String,
    /// `rootOrganizationFlag`.
    #[serde(default)]
    pub root_organization_flag: bool,
    /// `description`: a text with its inheritance.
    pub description: Option<InheritableText>,
    /// `timestampAdd`.
    pub timestamp_add: Option<String>,
    /// `timestampEdit`.
    pub timestamp_edit: Option<String>,
    /// Every other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A text that can be inherited from a parent organization.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct InheritableText {
    /// `value`: the organization's own text.
    pub value: Option<String>,
    /// `inheritance` (`OFF`, ...).
    pub inheritance: Option<String>,
    /// `result`: the text in effect.
    pub result: Option<String>,
}

/// The body of `POST {locale}/organization/{id}/customer/add`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCustomer {
    /// `firstName`.
    pub first_name: String,
    /// `lastName`.
    pub last_name: String,
    /// Any other member of the endpoint (`email`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl NewCustomer {
    /// A customer with a first and last name.
    pub fn new(first_name: impl Into<String>, last_name: impl Into<String>) -> Self {
        Self {
            first_name: first_name.into(),
            last_name: last_name.into(),
            extra: Map::new(),
        }
    }

    /// With one more member.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(name.to_owned(), value.into());
        self
    }
}

/// A customer as the API answers it (`class` `CUSTOMER_SHORT`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Customer {
    /// `class`.
    pub class: String,
    /// `id`.
    pub id: String,
    /// `customId`, as sent (`""` in the documentation's example).
    #[serde(default)]
    pub custom_id: Value,
    /// `firstName`.
    pub first_name: String,
    /// `lastName`.
    pub last_name: String,
    /// `organizationId`.
    pub organization_id: String,
    /// Every other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
