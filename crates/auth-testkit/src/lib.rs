//! Embedded servers for the auth crates' tests and demo: real HTTP on an ephemeral
//! loopback port, started in-process, with per-path request counters, a shared manual
//! clock and fault injection.
//!
//! ```
//! use auth_testkit::{Fault, ServerBuilder, TestResponse};
//! use http::{Method, StatusCode};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = ServerBuilder::new("hello")
//!     .route(Method::GET, "/hello", |_| TestResponse::text(StatusCode::OK, "hi"))
//!     .start()?;
//! server.inject_on("/hello", Fault::ServerError, 1);
//!
//! let first = reqwest::get(server.url("/hello")).await?;
//! assert_eq!(first.status(), 500);
//! let second = reqwest::get(server.url("/hello")).await?;
//! assert_eq!(second.text().await?, "hi");
//! assert_eq!(server.requests("/hello"), 2);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod beproduct;
pub mod bindeo;
pub mod binokula;
pub mod bookingtime;
pub mod bynder;
mod fault;
pub mod generic;
pub mod oauth1;
pub mod oauth2;
pub mod redis;
mod request;
mod server;
mod store;
pub mod wire;

pub use auth_core::{Clock, ManualClock};
pub use fault::Fault;
pub use request::{TestRequest, TestResponse};
pub use server::{Handler, ServerBuilder, TestServer};
pub use store::CountingStore;
