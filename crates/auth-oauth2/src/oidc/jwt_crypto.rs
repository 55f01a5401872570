//! A `jsonwebtoken` crypto provider over `ring`, which the workspace already builds
//! for TLS: jsonwebtoken 11 ships providers over aws-lc-rs (a second C crypto
//! library to compile) or RustCrypto (the `rsa` crate, under RUSTSEC-2023-0071), and
//! asks for one to be installed process-wide.
//!
//! Verification only: RS256/384/512, PS256/384/512, ES256/384, EdDSA, HS256/384/512.
//! Signing answers an error; this crate never signs.

use std::sync::Once;

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error as JwtError, ErrorKind};
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::signature;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::signature::{self as sig, VerificationAlgorithm};

/// The ring-backed provider.
static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: no_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(ErrorKind::InvalidKeyFormat.into()),
        rsa_pub_components_from_public_key: |_| Err(ErrorKind::InvalidKeyFormat.into()),
        ec_pub_components_from_private_key: |_, _| Err(ErrorKind::InvalidKeyFormat.into()),
        ed_pub_components_from_private_key: |_, _| Err(ErrorKind::InvalidKeyFormat.into()),
        compute_digest,
    },
};

/// Installs the ring provider unless the application installed one already (then
/// that one is used). Called before every verification; cheap after the first.
pub(crate) fn ensure_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = RING_PROVIDER.install_default();
    });
}

fn no_signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>, JwtError> {
    Err(ErrorKind::Signing("auth-oauth2 verifies tokens and never signs".into()).into())
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, JwtError> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    };
    Ok(ring::digest::digest(algorithm, data).as_ref().to_vec())
}

enum Check {
    Rsa(&'static sig::RsaParameters),
    Fixed(&'static dyn VerificationAlgorithm),
    Hmac(ring::hmac::Algorithm),
}

struct RingVerifier {
    algorithm: Algorithm,
    check: Check,
    key: DecodingKey,
}

fn new_verifier(
    algorithm: &Algorithm,
    key: &DecodingKey,
) -> Result<Box<dyn JwtVerifier>, JwtError> {
    let check = match algorithm {
        Algorithm::RS256 => Check::Rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
        Algorithm::RS384 => Check::Rsa(&sig::RSA_PKCS1_2048_8192_SHA384),
        Algorithm::RS512 => Check::Rsa(&sig::RSA_PKCS1_2048_8192_SHA512),
        Algorithm::PS256 => Check::Rsa(&sig::RSA_PSS_2048_8192_SHA256),
        Algorithm::PS384 => Check::Rsa(&sig::RSA_PSS_2048_8192_SHA384),
        Algorithm::PS512 => Check::Rsa(&sig::RSA_PSS_2048_8192_SHA512),
        Algorithm::ES256 => Check::Fixed(&sig::ECDSA_P256_SHA256_FIXED),
        Algorithm::ES384 => Check::Fixed(&sig::ECDSA_P384_SHA384_FIXED),
        Algorithm::EdDSA => Check::Fixed(&sig::ED25519),
        Algorithm::HS256 => Check::Hmac(ring::hmac::HMAC_SHA256),
        Algorithm::HS384 => Check::Hmac(ring::hmac::HMAC_SHA384),
        Algorithm::HS512 => Check::Hmac(ring::hmac::HMAC_SHA512),
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    };
    // A key of one family is never used with another family's algorithm (an RSA
    // public key as an HMAC secret is the classic confusion attack).
    let family_ok = matches!(
        (&check, key.family()),
        (Check::Rsa(_), AlgorithmFamily::Rsa)
            | (Check::Fixed(_), AlgorithmFamily::Ec | AlgorithmFamily::Ed)
            | (Check::Hmac(_), AlgorithmFamily::Hmac)
    );
    if !family_ok {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(RingVerifier {
        algorithm: *algorithm,
        check,
        key: key.clone(),
    }))
}

impl signature::Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let ok = match (&self.check, self.key.kind()) {
            (Check::Rsa(params), DecodingKeyKind::RsaModulusExponent { n, e }) => {
                sig::RsaPublicKeyComponents { n, e }
                    .verify(params, msg, signature)
                    .is_ok()
            }
            (Check::Rsa(params), DecodingKeyKind::SecretOrDer(der)) => {
                sig::UnparsedPublicKey::new(*params, der)
                    .verify(msg, signature)
                    .is_ok()
            }
            (Check::Fixed(alg), DecodingKeyKind::SecretOrDer(bytes)) => {
                sig::UnparsedPublicKey::new(*alg, bytes)
                    .verify(msg, signature)
                    .is_ok()
            }
            (Check::Hmac(alg), DecodingKeyKind::SecretOrDer(secret)) => {
                ring::hmac::verify(&ring::hmac::Key::new(*alg, secret), msg, signature).is_ok()
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}
