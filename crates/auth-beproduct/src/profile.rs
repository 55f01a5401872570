//! [`UserProfile`]: the userinfo answer, typed.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// What `connect/userinfo` says about the signed-in user.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct UserProfile {
    /// `sub`.
    pub sub: String,
    /// `preferred_username`.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// `email`.
    #[serde(default)]
    pub email: Option<String>,
    /// `email_verified`: BeProduct sends the string `"true"`; a JSON boolean is read
    /// too.
    #[serde(default, deserialize_with = "bool_or_string")]
    pub email_verified: bool,
    /// BeProduct's `userinfo` member (`id`, `firstname`, `lastname`, ...), as sent.
    #[serde(default)]
    pub userinfo: Option<Value>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    })
}
