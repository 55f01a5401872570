//! HMAC-SHA1 (RFC 2104) from a pre-keyed state, over the `sha1` crate's compression
//! function.
//!
//! The `hmac` + `sha1` types stage every input through a block buffer: padding is
//! written with `memset` and byte stores and read back in 16-byte loads, and on the
//! AMD EPYC this was measured on the failed store-to-load forwarding cost more than
//! a whole SHA-1 block (`perf annotate` of the `oauth1_sign` benchmark). Here the full
//! 64-byte blocks of the message are compressed where they lie, and only the tail is
//! padded, on the stack. The compression itself (with the CPU's SHA extensions) is
//! the crate's; the tests check this module against the `hmac` crate and RFC 2202.

use sha1::block_api::compress;
use zeroize::Zeroize;

const BLOCK: usize = 64;

/// SHA-1's initial state (FIPS 180-4 §5.3.1).
const H0: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// The states after the key's inner and outer padded blocks: what an HMAC-SHA1
/// under this key starts from. Wiped when dropped.
#[derive(Clone)]
pub(crate) struct HmacSha1Key {
    inner: [u32; 5],
    outer: [u32; 5],
}

impl HmacSha1Key {
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            let mut digest = to_bytes(&finish(H0, 0, key, Wipe::Yes));
            block[..20].copy_from_slice(&digest);
            digest.zeroize();
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let keyed = |pad: u8, block: &[u8; BLOCK]| {
            let mut padded = block.map(|b| b ^ pad);
            let mut state = H0;
            compress(&mut state, &[padded]);
            padded.zeroize();
            state
        };
        let key = Self {
            inner: keyed(0x36, &block),
            outer: keyed(0x5c, &block),
        };
        block.zeroize();
        key
    }

    /// The MAC of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 20] {
        // The inner hash has already taken one block: the key's.
        let inner = finish(self.inner, BLOCK as u64, message, Wipe::No);
        let digest = to_bytes(&inner);
        to_bytes(&finish(self.outer, BLOCK as u64, &digest, Wipe::No))
    }
}

impl Drop for HmacSha1Key {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

/// Whether the message is a secret (a key longer than a block), whose tail copied
/// onto the stack is wiped. A base string is not: wiping costs as much as the copy.
#[derive(PartialEq)]
enum Wipe {
    Yes,
    No,
}

/// Hashes `message` into `state`, which has taken `before` bytes, and pads (FIPS
/// 180-4 §5.1.1): a one bit, zeros, and the length in bits, big-endian.
fn finish(mut state: [u32; 5], before: u64, message: &[u8], wipe: Wipe) -> [u32; 5] {
    let (blocks, rest) = message.as_chunks::<BLOCK>();
    compress(&mut state, blocks);
    let mut tail = [[0u8; BLOCK]; 2];
    let flat = tail.as_flattened_mut();
    flat[..rest.len()].copy_from_slice(rest);
    flat[rest.len()] = 0x80;
    let used = if rest.len() < BLOCK - 8 { 1 } else { 2 };
    let bits = (before + message.len() as u64) * 8;
    flat[used * BLOCK - 8..used * BLOCK].copy_from_slice(&bits.to_be_bytes());
    compress(&mut state, &tail[..used]);
    if wipe == Wipe::Yes {
        tail.as_flattened_mut().zeroize();
    }
    state
}

fn to_bytes(state: &[u32; 5]) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};

    fn reference(key: &[u8], message: &[u8]) -> [u8; 20] {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn rfc_2202_cases_1_to_7() {
        let hex = |s: &str| {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        };
        let cases: [(Vec<u8>, Vec<u8>, &str); 7] = [
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                "b617318655057264e28bc0b6fb378c8ef146be00",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
            ),
            (
                vec![0xaa; 20],
                vec![0xdd; 50],
                "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
            ),
            (
                (1..=25).collect(),
                vec![0xcd; 50],
                "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
            ),
            (
                vec![0x0c; 20],
                b"Test With Truncation".to_vec(),
                "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04",
            ),
            (
                vec![0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "aa4ae5e15272d00e95705637ce8a3b55ed402112",
            ),
            (
                vec![0xaa; 80],
                b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"
                    .to_vec(),
                "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
            ),
        ];
        for (key, message, expected) in cases {
            assert_eq!(
                HmacSha1Key::new(&key).sign(&message).to_vec(),
                hex(expected)
            );
        }
    }

    #[test]
    fn agrees_with_the_hmac_crate_at_every_length_around_the_blocks() {
        // Messages of 0 to 200 bytes cross the one- and two-block padding cases;
        // keys of 0 to 130 bytes cross the hashed-key case.
        let message: Vec<u8> = (0..200u8).map(|i| i.wrapping_mul(37)).collect();
        for key_len in [0, 1, 20, 63, 64, 65, 130] {
            let key: Vec<u8> = (0..key_len).map(|i| (i * 7) as u8).collect();
            let keyed = HmacSha1Key::new(&key);
            for len in 0..=message.len() {
                assert_eq!(
                    keyed.sign(&message[..len]),
                    reference(&key, &message[..len]),
                    "key {key_len}, message {len}"
                );
            }
        }
    }
}
