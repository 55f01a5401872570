//! Published test vectors, byte for byte, with their inputs quoted from the sources.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use auth_core::SecretString;
use auth_oauth1::{
    AuthorizationHeader, Consumer, SignOptions, Signed, Signer, TokenCredentials, base_string,
    hmac_sha1,
};

fn signer(consumer: (&str, &str), token: Option<(&str, &str)>, realm: Option<&str>) -> Signer {
    let mut b = Signer::builder(Consumer::new(consumer.0, SecretString::from(consumer.1)));
    if let Some((t, s)) = token {
        b = b.token(TokenCredentials::new(t, SecretString::from(s)));
    }
    if let Some(r) = realm {
        b = b.realm(r);
    }
    b.build().unwrap()
}

fn sign(
    s: &Signer,
    method: &str,
    uri: &str,
    form: Option<&str>,
    options: SignOptions<'_>,
) -> Signed {
    let content_type = form.map(|_| "application/x-www-form-urlencoded");
    s.sign_parts(
        method,
        &uri.parse().unwrap(),
        content_type,
        form.unwrap_or("").as_bytes(),
        &options,
    )
    .unwrap()
}

/// RFC 5849 §1.2, first request:
///
/// ```text
/// POST /initiate HTTP/1.1
/// Host: photos.example.net
/// Authorization: OAuth realm="Photos",
///    oauth_consumer_key="dpf43f3p2l4k3l03",
///    oauth_signature_method="HMAC-SHA1",
///    oauth_timestamp="137131200",
///    oauth_nonce="wIjqoS",
///    oauth_callback="http%3A%2F%2Fprinter.example.com%2Fready",
///    oauth_signature="74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D"
/// ```
/// (client shared secret `kd94hf93k423kf44`). Our header also carries
/// `oauth_version="1.0"`, which the RFC's example omits; it is part of the base string,
/// so this vector is checked with a signer-independent computation below.
#[test]
fn rfc5849_section_1_2_temporary_credentials() {
    let uri = "https://photos.example.net/initiate".parse().unwrap();
    let protocol = [
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131200"),
        ("oauth_nonce", "wIjqoS"),
        ("oauth_callback", "http://printer.example.com/ready"),
    ];
    let base = base_string("POST", &uri, None, &protocol).unwrap();
    assert_eq!(
        signature(b"kd94hf93k423kf44&", &base),
        "74KNZJeDHnMBp0EMJ9ZHt/XKycU="
    );
}

/// RFC 5849 §1.2, second request: token credentials with the verifier
/// (`oauth_token="hh5s93j4hdidpola"`, `oauth_verifier="hfdp7dh39dks9884"`,
/// temporary secret `hdhd0244k9j7ao03`, timestamp `137131201`, nonce `walatlh`).
#[test]
fn rfc5849_section_1_2_token_credentials() {
    let uri = "https://photos.example.net/token".parse().unwrap();
    let protocol = [
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "hh5s93j4hdidpola"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "walatlh"),
        ("oauth_verifier", "hfdp7dh39dks9884"),
    ];
    let base = base_string("POST", &uri, None, &protocol).unwrap();
    assert_eq!(
        signature(b"kd94hf93k423kf44&hdhd0244k9j7ao03", &base),
        "gKgrFCywp7rO0OXSjdot/IHF7IU="
    );
}

/// RFC 5849 §1.2, third request:
/// `GET /photos?file=vacation.jpg&size=original` on `photos.example.net` with
/// `oauth_token="nnch734d00sl2jdk"`, token secret `pfkkdhi9sl3r4s00`, timestamp
/// `137131202`, nonce `chapoH`; signature `MdpQcU8iPSUjWoN/UDMsK2sui9I=`.
#[test]
fn rfc5849_section_1_2_resource_request() {
    let uri = "http://photos.example.net/photos?file=vacation.jpg&size=original"
        .parse()
        .unwrap();
    let protocol = [
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131202"),
        ("oauth_nonce", "chapoH"),
    ];
    let base = base_string("GET", &uri, None, &protocol).unwrap();
    assert_eq!(
        signature(b"kd94hf93k423kf44&pfkkdhi9sl3r4s00", &base),
        "MdpQcU8iPSUjWoN/UDMsK2sui9I="
    );
}

/// RFC 5849 §3.4.1.1: the request
///
/// ```text
/// POST /request?b5=%3D%253D&a3=a&c%40=&a2=r%20b HTTP/1.1
/// Host: example.com
/// Content-Type: application/x-www-form-urlencoded
/// Authorization: OAuth realm="Example",
///    oauth_consumer_key="9djdj82h48djs9d2",
///    oauth_token="kkk9d7dh3k39sjv7",
///    oauth_signature_method="HMAC-SHA1",
///    oauth_timestamp="137131201",
///    oauth_nonce="7d8f3e4a",
///    oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"
///
/// c2&a3=2+q
/// ```
#[test]
fn rfc5849_section_3_4_1_1_base_string() {
    let uri = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
        .parse()
        .unwrap();
    let header = AuthorizationHeader::parse(
        "OAuth realm=\"Example\",\n   oauth_consumer_key=\"9djdj82h48djs9d2\",\n   oauth_token=\"kkk9d7dh3k39sjv7\",\n   oauth_signature_method=\"HMAC-SHA1\",\n   oauth_timestamp=\"137131201\",\n   oauth_nonce=\"7d8f3e4a\",\n   oauth_signature=\"bYT5CMsGcbgUdFHObYMEfcx6bsw%3D\"",
    )
    .unwrap();
    let protocol = header.protocol_pairs();
    let base = base_string("POST", &uri, Some(b"c2&a3=2+q"), &protocol).unwrap();
    assert_eq!(
        base,
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
         %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_\
         key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m\
         ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk\
         9d7dh3k39sjv7"
    );
}

/// RFC 2202 §3, HMAC-SHA1 test cases 1 to 3.
#[test]
fn rfc2202_hmac_sha1_cases_1_to_3() {
    // test_case = 1, key = 0x0b repeated 20 times, data = "Hi There"
    assert_eq!(
        hex(&hmac_sha1(&[0x0b; 20], b"Hi There")),
        "b617318655057264e28bc0b6fb378c8ef146be00"
    );
    // test_case = 2, key = "Jefe", data = "what do ya want for nothing?"
    assert_eq!(
        hex(&hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    );
    // test_case = 3, key = 0xaa repeated 20 times, data = 0xdd repeated 50 times
    assert_eq!(
        hex(&hmac_sha1(&[0xaa; 20], &[0xdd; 50])),
        "125d7342b9ac11cd91a39af48aa17b4f63f175d3"
    );
}

/// Twitter's "Creating a signature" example, through the whole signer.
#[test]
fn twitter_creating_a_signature() {
    let s = signer(
        (
            "xvz1evFS4wEEPTGEFPHBog",
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        ),
        Some((
            "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        )),
        None,
    );
    let signed = sign(
        &s,
        "POST",
        "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
        Some("status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21"),
        SignOptions {
            nonce: Some("kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            timestamp: Some(1_318_622_958),
            ..Default::default()
        },
    );
    assert_eq!(signed.signature, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
    assert_eq!(
        signed.base_string,
        "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
    );
    assert!(
        signed
            .authorization
            .contains(r#"oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D""#)
    );
}

/// The signer produces the §1.2 resource signature when given the RFC's parameters
/// (the RFC's third request carries no `oauth_version`, our signer always sends it, so
/// this checks the signer on the same inputs against the base-string computation).
#[test]
fn signer_matches_the_base_string_computation() {
    let s = signer(
        ("dpf43f3p2l4k3l03", "kd94hf93k423kf44"),
        Some(("nnch734d00sl2jdk", "pfkkdhi9sl3r4s00")),
        Some("Photos"),
    );
    let signed = sign(
        &s,
        "GET",
        "http://photos.example.net/photos?file=vacation.jpg&size=original",
        None,
        SignOptions {
            nonce: Some("chapoH"),
            timestamp: Some(137_131_202),
            ..Default::default()
        },
    );
    assert_eq!(
        signed.signature,
        signature(b"kd94hf93k423kf44&pfkkdhi9sl3r4s00", &signed.base_string)
    );
    assert!(
        signed
            .authorization
            .starts_with(r#"OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03""#)
    );
}

fn signature(key: &[u8], base: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(hmac_sha1(key, base.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
