//! Signatures and message encryption for WeChat official account server messages
//! (消息推送), see `docs/protocols.md`, "WeChat official account server messages".
//!
//! * [`signature`]: `sha1(sort([token, timestamp, nonce]).concat())` as lowercase hex,
//!   used for the GET URL verification and for plain-mode POSTs.
//! * [`msg_signature`]: the same over `[token, timestamp, nonce, Encrypt]` (safe mode).
//! * [`Cipher`]: safe-mode AES-256-CBC with IV = key[0..16]; plaintext layout
//!   `16 random bytes ‖ u32 BE length ‖ message ‖ appid`, PKCS#7-padded to a multiple
//!   of **32** bytes.
//!
//! Everything here is pure (no I/O) and never panics on untrusted input. Note that CBC
//! without a MAC is malleable: integrity comes from checking `msg_signature` over the
//! ciphertext *before* calling [`Cipher::decrypt`], never from decryption succeeding.
use std::fmt;

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use rand::RngCore;
use sha1::{Digest, Sha1};

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// AES block size.
const AES_BLOCK: usize = 16;
/// WeChat pads to a multiple of 32 bytes (not the AES block size).
const PAD_BLOCK: usize = 32;
/// Length of the random prefix in the plaintext.
const RANDOM_LEN: usize = 16;
/// Random prefix plus the u32 length field.
const HEADER_LEN: usize = RANDOM_LEN + 4;
/// Length of an EncodingAESKey as shown in the WeChat console.
const ENCODING_AES_KEY_LEN: usize = 43;

/// Why a key could not be loaded or a ciphertext could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 base64 characters decoding to 32 bytes.
    BadKey,
    /// The ciphertext is not valid standard base64.
    BadBase64,
    /// The ciphertext is empty or not a multiple of the AES block size, or the
    /// length field disagrees with the decrypted data.
    BadLength,
    /// The PKCS#7 padding is not 1..=32 equal bytes.
    BadPadding,
    /// The trailing appid is not ours.
    BadAppId,
    /// The message is not UTF-8.
    BadUtf8,
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CryptoError::BadKey => {
                "invalid EncodingAESKey: expected 43 base64 characters (32 bytes)"
            }
            CryptoError::BadBase64 => "ciphertext is not valid base64",
            CryptoError::BadLength => "ciphertext or message length is invalid",
            CryptoError::BadPadding => "invalid PKCS#7 padding",
            CryptoError::BadAppId => "message was encrypted for another appid",
            CryptoError::BadUtf8 => "decrypted message is not UTF-8",
        })
    }
}

impl std::error::Error for CryptoError {}

/// `sha1(concat(sort(parts)))` as lowercase hex. Sorting is bytewise, like WeChat's
/// reference implementations (and Python's sort of `bytes`).
fn sorted_sha1_hex(parts: &mut [&str]) -> String {
    parts.sort_unstable();
    let mut hasher = Sha1::new();
    for part in parts.iter() {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Signature of a GET verification request or a plain-mode POST:
/// `sha1(sort([token, timestamp, nonce]).concat())`, lowercase hex.
pub fn signature(token: &str, timestamp: &str, nonce: &str) -> String {
    sorted_sha1_hex(&mut [token, timestamp, nonce])
}

/// Safe-mode `msg_signature`: `sha1(sort([token, timestamp, nonce, encrypt]).concat())`,
/// lowercase hex, where `encrypt` is the base64 `Encrypt` element.
pub fn msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sorted_sha1_hex(&mut [token, timestamp, nonce, encrypt])
}

/// Compares two signatures in time independent of where they differ (the length is
/// not secret: both are 40 hex characters when well formed).
pub fn signatures_match(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

/// Decodes the EncodingAESKey. WeChat's 43-character keys usually end in a character
/// whose low bits are not zero, so the trailing bits must be tolerated (as in WeChat's
/// own samples and wechatpy); everything else is strict.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Safe-mode cipher of one official account: the AES key and the appid it checks.
#[derive(Clone)]
pub struct Cipher {
    key: [u8; 32],
    app_id: String,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher")
            .field("key", &"<redacted>")
            .field("app_id", &self.app_id)
            .finish()
    }
}

impl Cipher {
    /// Loads the key: `base64-decode(encoding_aes_key + "=")`, which must be exactly 43
    /// base64 characters and decode to 32 bytes.
    pub fn new(encoding_aes_key: &str, app_id: &str) -> Result<Cipher, CryptoError> {
        if encoding_aes_key.len() != ENCODING_AES_KEY_LEN
            || !encoding_aes_key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            return Err(CryptoError::BadKey);
        }
        let padded = format!("{encoding_aes_key}=");
        let decoded = KEY_ENGINE
            .decode(padded.as_bytes())
            .map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = decoded.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Cipher {
            key,
            app_id: app_id.to_owned(),
        })
    }

    /// The appid this cipher writes and expects.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// Encrypts a reply with a fresh random prefix; returns the base64 `Encrypt` value.
    pub fn encrypt(&self, plaintext_xml: &str) -> String {
        let mut random16 = [0u8; RANDOM_LEN];
        rand::rngs::OsRng.fill_bytes(&mut random16);
        self.encrypt_with_random(random16, plaintext_xml)
    }

    /// Like [`Cipher::encrypt`] with a given random prefix (for known-answer tests).
    pub fn encrypt_with_random(&self, random16: [u8; 16], plaintext_xml: &str) -> String {
        let msg = plaintext_xml.as_bytes();
        let app_id = self.app_id.as_bytes();
        let data_len = HEADER_LEN + msg.len() + app_id.len();
        let pad = PAD_BLOCK - data_len % PAD_BLOCK; // 1..=32
        let mut buf = Vec::with_capacity(data_len + pad);
        buf.extend_from_slice(&random16);
        // WeChat messages are far below 4 GiB; saturate rather than wrap if one were not.
        buf.extend_from_slice(&u32::try_from(msg.len()).unwrap_or(u32::MAX).to_be_bytes());
        buf.extend_from_slice(msg);
        buf.extend_from_slice(app_id);
        // `pad` is at most 32, so the cast is lossless.
        buf.resize(data_len + pad, pad as u8);

        let mut enc = Aes256CbcEnc::new(
            GenericArray::from_slice(&self.key),
            GenericArray::from_slice(&self.key[..AES_BLOCK]),
        );
        // `buf.len()` is a multiple of 32, so every chunk is a full block.
        for block in buf.chunks_exact_mut(AES_BLOCK) {
            enc.encrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        STANDARD.encode(&buf)
    }

    /// Decrypts a base64 `Encrypt` value and returns the message, checking the
    /// padding, the length field and that the trailing appid is ours.
    ///
    /// Verify `msg_signature` first: CBC is malleable and this is no integrity check.
    pub fn decrypt(&self, encrypted_b64: &str) -> Result<String, CryptoError> {
        let mut buf = STANDARD
            .decode(encrypted_b64.as_bytes())
            .map_err(|_| CryptoError::BadBase64)?;
        if buf.is_empty() || buf.len() % AES_BLOCK != 0 {
            return Err(CryptoError::BadLength);
        }
        let mut dec = Aes256CbcDec::new(
            GenericArray::from_slice(&self.key),
            GenericArray::from_slice(&self.key[..AES_BLOCK]),
        );
        for block in buf.chunks_exact_mut(AES_BLOCK) {
            dec.decrypt_block_mut(GenericArray::from_mut_slice(block));
        }

        // PKCS#7 with a 32-byte block: 1..=32 bytes, all equal to the count.
        let pad = usize::from(*buf.last().ok_or(CryptoError::BadLength)?);
        if !(1..=PAD_BLOCK).contains(&pad) || pad > buf.len() {
            return Err(CryptoError::BadPadding);
        }
        let (content, padding) = buf.split_at(buf.len() - pad);
        if padding.iter().any(|&b| usize::from(b) != pad) {
            return Err(CryptoError::BadPadding);
        }

        if content.len() < HEADER_LEN {
            return Err(CryptoError::BadLength);
        }
        let mut len_bytes = [0u8; 4];
        len_bytes.copy_from_slice(&content[RANDOM_LEN..HEADER_LEN]);
        let msg_len =
            usize::try_from(u32::from_be_bytes(len_bytes)).map_err(|_| CryptoError::BadLength)?;
        let rest = &content[HEADER_LEN..];
        if msg_len > rest.len() {
            return Err(CryptoError::BadLength);
        }
        let (msg, app_id) = rest.split_at(msg_len);
        if app_id != self.app_id.as_bytes() {
            return Err(CryptoError::BadAppId);
        }
        String::from_utf8(msg.to_vec()).map_err(|_| CryptoError::BadUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---------------------------------------------------------------------------------
    // Known-answer vectors, produced with wechatpy 1.8.18 + cryptography 50.0.2
    // (`pip install wechatpy cryptography`), Python 3.11:
    //
    //   from wechatpy.crypto import WeChatCrypto, PrpCrypto, _get_signature
    //   from wechatpy.utils import WeChatSigner
    //   from wechatpy.crypto.base import BasePrpCrypto
    //   BasePrpCrypto.get_random_string = lambda self: "0123456789abcdef"
    //   token, key, appid = "pamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxb11529c136998cb6"
    //   ts, nonce = "1409304348", "xxxxxx"
    //   c = WeChatCrypto(token, key, appid)
    //   s = WeChatSigner(); s.add_data(token, ts, nonce); print("signature", s.signature)
    //   msgs = {"text": TEXT_XML, "full32": "x" * 58, "empty": ""}   # TEXT_XML as below
    //   for name, m in msgs.items():
    //       enc = PrpCrypto(c.key).encrypt(m, appid).decode()
    //       print(name, len(m.encode()), enc)
    //       print(name, "msg_signature", _get_signature(token, ts, nonce, enc))
    //       assert PrpCrypto(c.key).decrypt(enc, appid) == m
    //   print(c.encrypt_message(msgs["text"], nonce, ts))   # same Encrypt/MsgSignature
    //
    // The key is the one from WeChat's own documentation sample; its last character 'G'
    // has non-zero trailing bits, which `Cipher::new` must accept.
    // ---------------------------------------------------------------------------------
    const TOKEN: &str = "pamtest";
    const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const APP_ID: &str = "wxb11529c136998cb6";
    const TIMESTAMP: &str = "1409304348";
    const NONCE: &str = "xxxxxx";
    const RANDOM: [u8; 16] = *b"0123456789abcdef";

    const SIGNATURE: &str = "76480565cbe296026c53aaacd1ad523a1ddba24f";

    const TEXT_XML: &str = "<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1409304348</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好，人大代表]]></Content><MsgId>1234567890123456</MsgId></xml>";
    const TEXT_ENC: &str = "Q3stYC6hdFzMh9T8HCvyDPYd4batj7zR9qX1tTJwVo3rIGsIyiksc+v3Gxca8gMqwUEkuJmTCnAK5mqRVOmXHcec+FiRs4yqTJOhcAtg4JuxFp0kUv5AhqpHkIQeoBPw7DvHttJ7BFTQ5lv4oU5shsF6VVnm8MS0/htbH37e+BkU+G2ZYJ74vdLRHQ4c9CU6XF0zfOGVUzy0TdkzF7VSDqYXEBPAjkfHZYcnCmHvXvnFN8GaoDwP9qei6ff1Zk+KfViEeTkfLld8KOKMmoMc9QoQlKlth2ZPc0CG74ctmuch5tGz+/7pZq1OGVaBAXO+6VlhemAqqqbvxOUFIT61Q0iDthTH7eQJoXPvxYpXFuQpuD/dACe5gXOc8s+voQh7ZOw+wiq1uGnEeCxXmr28rnPeEwOIp/c1XBv0LxSP1UI=";
    const TEXT_MSG_SIGNATURE: &str = "5b1f6d13799384ad1260b0321ecd5296b6bc257b";

    /// 16 + 4 + 58 + 18 = 96 bytes: a multiple of 32, so a full block of 32 pad bytes.
    const FULL32_ENC: &str = "Q3stYC6hdFzMh9T8HCvyDIKMpJ2YB/WJNYEsiBRSdP7uuAg59ygU0GcjEbNixcLfuHJQGfnGB/sQWDCwRYJJMDGHdyNXwaSNbiwQT1k8/tvCY+rlTfESPyaxnFKkAM79upvly/m414ssiGKxz8n4nIOKfDv1p/jhgxo15BXIStM=";
    const FULL32_MSG_SIGNATURE: &str = "dea6a033ca4d91ad666c4777b36f15c80de3af42";

    const EMPTY_ENC: &str =
        "Q3stYC6hdFzMh9T8HCvyDHhfHLJCm4hR5ysOJ/7+aIE56VkDU+GN9Zzy1vv3hL0H4b7fYnSu3TUO0j1ZWKCNcA==";
    const EMPTY_MSG_SIGNATURE: &str = "3135f08d058acd3bf818a921c29e4db399c5ebba";

    // A non-ASCII random prefix (wechatpy only ever uses letters and digits), made by
    // reproducing the layout directly with the `cryptography` package:
    //
    //   import base64, struct
    //   from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    //   key = base64.b64decode("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=")
    //   rnd = bytes(range(0xf0, 0x100))
    //   msg = "<xml><Content><![CDATA[议案]]></Content></xml>".encode()
    //   pt = rnd + struct.pack(">I", len(msg)) + msg + b"wxb11529c136998cb6"
    //   n = 32 - len(pt) % 32
    //   pt += bytes([n]) * n
    //   e = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    //   print(len(msg), base64.b64encode(e.update(pt) + e.finalize()).decode())
    const BINARY_RANDOM_XML: &str = "<xml><Content><![CDATA[议案]]></Content></xml>";
    const BINARY_RANDOM_ENC: &str = "EsZ7Ryw+VIw056uG/tZNW4k5rImWkwCPgExOaaGq80jKliBgYU/XnqEfWEl074Ev223ctDVOjRpmH34G1TZnnsS4h7rmePazh3bnXce9VrQjjQhszDqcwYB362kdk2nf";

    fn cipher() -> Cipher {
        Cipher::new(AES_KEY, APP_ID).expect("valid key")
    }

    /// Encrypts raw plaintext bytes (already padded by the caller) the way WeChat would,
    /// so that malformed plaintexts can be fed to `decrypt`.
    fn encrypt_raw(key: &[u8; 32], plain: &[u8]) -> String {
        assert_eq!(plain.len() % AES_BLOCK, 0);
        let mut buf = plain.to_vec();
        let mut enc = Aes256CbcEnc::new(
            GenericArray::from_slice(key),
            GenericArray::from_slice(&key[..AES_BLOCK]),
        );
        for block in buf.chunks_exact_mut(AES_BLOCK) {
            enc.encrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        STANDARD.encode(&buf)
    }

    /// Plaintext layout with explicit length field, appid and padding bytes.
    fn layout(length_field: u32, msg: &[u8], app_id: &[u8], pad: &[u8]) -> Vec<u8> {
        let mut v = RANDOM.to_vec();
        v.extend_from_slice(&length_field.to_be_bytes());
        v.extend_from_slice(msg);
        v.extend_from_slice(app_id);
        v.extend_from_slice(pad);
        v
    }

    /// Pads `data` with bytes of value `value` up to the next multiple of 32
    /// (a whole extra block when already aligned).
    fn pad_with(mut data: Vec<u8>, value: u8) -> Vec<u8> {
        let n = PAD_BLOCK - data.len() % PAD_BLOCK;
        data.resize(data.len() + n, value);
        data
    }

    #[test]
    fn signature_known_answer() {
        assert_eq!(signature(TOKEN, TIMESTAMP, NONCE), SIGNATURE);
        // Order of the arguments does not matter: they are sorted.
        assert_eq!(signature(NONCE, TOKEN, TIMESTAMP), SIGNATURE);
    }

    #[test]
    fn msg_signature_known_answers() {
        assert_eq!(
            msg_signature(TOKEN, TIMESTAMP, NONCE, TEXT_ENC),
            TEXT_MSG_SIGNATURE
        );
        assert_eq!(
            msg_signature(TOKEN, TIMESTAMP, NONCE, FULL32_ENC),
            FULL32_MSG_SIGNATURE
        );
        assert_eq!(
            msg_signature(TOKEN, TIMESTAMP, NONCE, EMPTY_ENC),
            EMPTY_MSG_SIGNATURE
        );
        assert_ne!(
            msg_signature("other", TIMESTAMP, NONCE, TEXT_ENC),
            TEXT_MSG_SIGNATURE
        );
    }

    #[test]
    fn signatures_match_compares_exactly() {
        assert!(signatures_match(SIGNATURE, SIGNATURE));
        assert!(signatures_match("", ""));
        let mut other = SIGNATURE.to_owned();
        other.replace_range(39..40, "0");
        assert!(!signatures_match(SIGNATURE, &other));
        assert!(!signatures_match(SIGNATURE, &SIGNATURE[..39]));
        assert!(!signatures_match(SIGNATURE, &SIGNATURE.to_uppercase()));
        assert!(!signatures_match("", SIGNATURE));
    }

    #[test]
    fn encrypt_known_answers() {
        let c = cipher();
        assert_eq!(c.encrypt_with_random(RANDOM, TEXT_XML), TEXT_ENC);
        assert_eq!(c.encrypt_with_random(RANDOM, &"x".repeat(58)), FULL32_ENC);
        assert_eq!(c.encrypt_with_random(RANDOM, ""), EMPTY_ENC);
        let binary: [u8; 16] = core::array::from_fn(|i| 0xf0 + i as u8);
        assert_eq!(
            c.encrypt_with_random(binary, BINARY_RANDOM_XML),
            BINARY_RANDOM_ENC
        );
    }

    #[test]
    fn decrypt_known_answers() {
        let c = cipher();
        assert_eq!(c.decrypt(TEXT_ENC).as_deref(), Ok(TEXT_XML));
        assert_eq!(
            c.decrypt(FULL32_ENC).as_deref(),
            Ok("x".repeat(58).as_str())
        );
        assert_eq!(c.decrypt(EMPTY_ENC).as_deref(), Ok(""));
        assert_eq!(
            c.decrypt(BINARY_RANDOM_ENC).as_deref(),
            Ok(BINARY_RANDOM_XML)
        );
    }

    #[test]
    fn ciphertext_length_is_padded_to_32() {
        let c = cipher();
        for len in 0..100 {
            let msg = "a".repeat(len);
            let raw = STANDARD.decode(c.encrypt(&msg)).expect("base64");
            assert_eq!(raw.len() % 32, 0, "len {len}");
            assert!(raw.len() > HEADER_LEN + len + APP_ID.len());
        }
    }

    #[test]
    fn round_trip_with_random_prefix() {
        let c = cipher();
        for msg in ["", "a", "<xml>你好]]>\u{0}</xml>", &"长".repeat(1000)] {
            let a = c.encrypt(msg);
            let b = c.encrypt(msg);
            assert_ne!(a, b, "random prefix must differ");
            assert_eq!(c.decrypt(&a).as_deref(), Ok(msg));
            assert_eq!(c.decrypt(&b).as_deref(), Ok(msg));
        }
    }

    #[test]
    fn new_validates_the_key() {
        assert!(Cipher::new(AES_KEY, APP_ID).is_ok());
        // 42 and 44 characters.
        assert_eq!(
            Cipher::new(&AES_KEY[..42], APP_ID).err(),
            Some(CryptoError::BadKey)
        );
        assert_eq!(
            Cipher::new(&format!("{AES_KEY}A"), APP_ID).err(),
            Some(CryptoError::BadKey)
        );
        // The caller must not add the "=" itself.
        assert_eq!(
            Cipher::new(&format!("{}=", &AES_KEY[..42]), APP_ID).err(),
            Some(CryptoError::BadKey)
        );
        // Characters outside the base64 alphabet, including multi-byte ones.
        assert_eq!(
            Cipher::new(&format!("{}-", &AES_KEY[..42]), APP_ID).err(),
            Some(CryptoError::BadKey)
        );
        assert_eq!(
            Cipher::new(&format!("{}é", &AES_KEY[..41]), APP_ID).err(),
            Some(CryptoError::BadKey)
        );
        assert_eq!(Cipher::new("", APP_ID).err(), Some(CryptoError::BadKey));
        // '+' and '/' are base64 too.
        assert!(Cipher::new(&format!("+/{}", &AES_KEY[2..]), APP_ID).is_ok());
    }

    #[test]
    fn debug_does_not_leak_the_key() {
        let shown = format!("{:?}", cipher());
        assert!(shown.contains("redacted"));
        assert!(shown.contains(APP_ID));
    }

    #[test]
    fn wrong_app_id_is_rejected() {
        let other = Cipher::new(AES_KEY, "wx0000000000000000").expect("valid key");
        assert_eq!(other.decrypt(TEXT_ENC), Err(CryptoError::BadAppId));
        let enc = other.encrypt("<xml/>");
        assert_eq!(cipher().decrypt(&enc), Err(CryptoError::BadAppId));
        // A prefix or extension of our appid is not ours either.
        let shorter = Cipher::new(AES_KEY, &APP_ID[..17]).expect("valid key");
        assert_eq!(
            cipher().decrypt(&shorter.encrypt("x")),
            Err(CryptoError::BadAppId)
        );
        let longer = Cipher::new(AES_KEY, &format!("{APP_ID}x")).expect("valid key");
        assert_eq!(
            cipher().decrypt(&longer.encrypt("x")),
            Err(CryptoError::BadAppId)
        );
    }

    #[test]
    fn wrong_key_fails_cleanly() {
        let other_key = Cipher::new(&"B".repeat(43), APP_ID).expect("valid key");
        assert!(other_key.decrypt(TEXT_ENC).is_err());
    }

    #[test]
    fn bad_pad_values_are_rejected() {
        let c = cipher();
        let key = c.key;
        // Pad byte 0.
        let plain = pad_with(layout(2, b"ok", APP_ID.as_bytes(), &[]), 0);
        assert_eq!(
            c.decrypt(&encrypt_raw(&key, &plain)),
            Err(CryptoError::BadPadding)
        );
        // Pad byte 33 (over a 32-byte block), on a 64-byte plaintext.
        let mut plain = layout(2, b"ok", APP_ID.as_bytes(), &[]);
        plain.resize(64, 33);
        assert_eq!(
            c.decrypt(&encrypt_raw(&key, &plain)),
            Err(CryptoError::BadPadding)
        );
        // Pad byte 255.
        let plain = pad_with(layout(2, b"ok", APP_ID.as_bytes(), &[]), 255);
        assert_eq!(
            c.decrypt(&encrypt_raw(&key, &plain)),
            Err(CryptoError::BadPadding)
        );
        // Inconsistent pad bytes: the count (24) is right but one byte differs.
        let mut plain = fix_pad(layout(2, b"ok", APP_ID.as_bytes(), &[]));
        let n = plain.len();
        assert_eq!(plain[n - 1], 24);
        plain[n - 2] = 23;
        assert_eq!(
            c.decrypt(&encrypt_raw(&key, &plain)),
            Err(CryptoError::BadPadding)
        );
        // Pad 16 on a 16-byte-aligned (but not 32-aligned) plaintext is fine: 1..=32.
        let mut plain = layout(2, b"ok", APP_ID.as_bytes(), &[]);
        let unpadded = plain.len();
        let pad = 16 - unpadded % 16;
        plain.resize(unpadded + pad, pad as u8);
        assert_eq!(c.decrypt(&encrypt_raw(&key, &plain)).as_deref(), Ok("ok"));
        // Pad 32 covering the whole (32-byte) plaintext leaves no header.
        let plain = [32u8; 32];
        assert_eq!(
            c.decrypt(&encrypt_raw(&key, &plain)),
            Err(CryptoError::BadLength)
        );
        // Pad larger than the data (16-byte ciphertext ending in 32).
        let plain = [32u8; 16];
        assert_eq!(
            c.decrypt(&encrypt_raw(&key, &plain)),
            Err(CryptoError::BadPadding)
        );
    }

    #[test]
    fn bad_length_fields_are_rejected() {
        let c = cipher();
        let key = c.key;
        let app = APP_ID.as_bytes();
        // Length field longer than the data.
        let plain = fix_pad(layout(100, b"ok", app, &[]));
        assert_eq!(
            c.decrypt(&encrypt_raw(&key, &plain)),
            Err(CryptoError::BadLength)
        );
        // Huge length field (would overflow a careless `20 + len`).
        let plain = fix_pad(layout(u32::MAX, b"ok", app, &[]));
        assert_eq!(
            c.decrypt(&encrypt_raw(&key, &plain)),
            Err(CryptoError::BadLength)
        );
        // Length field too short: the rest of the message becomes part of the "appid".
        let plain = fix_pad(layout(1, b"ok", app, &[]));
        assert_eq!(
            c.decrypt(&encrypt_raw(&key, &plain)),
            Err(CryptoError::BadAppId)
        );
        // Fewer than 20 bytes before the padding.
        let mut plain = RANDOM.to_vec();
        plain.extend_from_slice(&[0, 0]);
        let plain = fix_pad(plain);
        assert_eq!(
            c.decrypt(&encrypt_raw(&key, &plain)),
            Err(CryptoError::BadLength)
        );
    }

    /// Appends a correct 32-byte PKCS#7 pad.
    fn fix_pad(mut data: Vec<u8>) -> Vec<u8> {
        let n = PAD_BLOCK - data.len() % PAD_BLOCK;
        data.resize(data.len() + n, n as u8);
        data
    }

    #[test]
    fn non_utf8_message_is_rejected() {
        let c = cipher();
        let plain = fix_pad(layout(2, &[0xff, 0xfe], APP_ID.as_bytes(), &[]));
        assert_eq!(
            c.decrypt(&encrypt_raw(&c.key, &plain)),
            Err(CryptoError::BadUtf8)
        );
    }

    #[test]
    fn bad_base64_and_lengths_are_rejected() {
        let c = cipher();
        assert_eq!(c.decrypt(""), Err(CryptoError::BadLength));
        assert_eq!(c.decrypt("!!!!"), Err(CryptoError::BadBase64));
        assert_eq!(c.decrypt("QUJD"), Err(CryptoError::BadLength)); // 3 bytes
        assert_eq!(
            c.decrypt(&STANDARD.encode([0u8; 17])),
            Err(CryptoError::BadLength)
        );
        // Missing padding / embedded whitespace are not standard base64.
        assert_eq!(
            c.decrypt(TEXT_ENC.trim_end_matches('=')),
            Err(CryptoError::BadBase64)
        );
        assert_eq!(
            c.decrypt(&format!(" {TEXT_ENC}")),
            Err(CryptoError::BadBase64)
        );
        // Dropping whole 16-byte blocks from the end garbles the padding.
        let raw = STANDARD.decode(TEXT_ENC).expect("base64");
        let truncated = STANDARD.encode(&raw[..raw.len() - 16]);
        assert!(c.decrypt(&truncated).is_err());
    }

    #[test]
    fn tampered_ciphertext_is_rejected() {
        let c = cipher();
        let raw = STANDARD.decode(TEXT_ENC).expect("base64");
        let n = raw.len();
        // Flipping a bit of the second-to-last block flips the same bit of the last
        // plaintext block: one pad byte changes.
        let mut t = raw.clone();
        t[n - 17] ^= 0x01;
        assert_eq!(
            c.decrypt(&STANDARD.encode(&t)),
            Err(CryptoError::BadPadding)
        );
        // Garbling the last block destroys the padding.
        let mut t = raw.clone();
        t[n - 1] ^= 0x80;
        assert!(c.decrypt(&STANDARD.encode(&t)).is_err());
        // Flipping the top bit of the length field (via the first block).
        let mut t = raw.clone();
        t[0] ^= 0x80;
        assert_eq!(c.decrypt(&STANDARD.encode(&t)), Err(CryptoError::BadLength));
        // Every single-byte change either fails or (CBC being malleable) yields a
        // different message, and never panics. Since some changes do decrypt, the
        // msg_signature over the ciphertext must be checked first.
        for i in 0..n {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut t = raw.clone();
                t[i] ^= flip;
                assert_ne!(
                    c.decrypt(&STANDARD.encode(&t)).as_deref(),
                    Ok(TEXT_XML),
                    "byte {i}"
                );
            }
        }
        let mut t = raw.clone();
        t[40] ^= 1;
        let tampered = STANDARD.encode(&t);
        assert!(!signatures_match(
            &msg_signature(TOKEN, TIMESTAMP, NONCE, &tampered),
            TEXT_MSG_SIGNATURE
        ));
    }

    /// Small deterministic generator so the fuzz-ish tests are reproducible.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    #[test]
    fn never_panics_on_random_input() {
        let c = cipher();
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for i in 0..2000 {
            let n = (rng.next() % 200) as usize;
            let bytes = rng.bytes(n);
            // Random ciphertexts of any length (most are not block multiples).
            let _ = c.decrypt(&STANDARD.encode(&bytes));
            // Random block-aligned ciphertexts: decrypt to random plaintexts.
            let aligned = rng.bytes(16 * (1 + i % 8));
            let _ = c.decrypt(&STANDARD.encode(&aligned));
            // Random text, including non-ASCII.
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let _ = c.decrypt(&text);
            let _ = Cipher::new(&text, APP_ID);
        }
        // Truncations of a valid ciphertext at every character.
        for end in 0..TEXT_ENC.len() {
            let _ = c.decrypt(&TEXT_ENC[..end]);
        }
        // Random plaintexts encrypted under our key: header/length/pad all random.
        for _ in 0..2000 {
            let blocks = 1 + (rng.next() % 6) as usize;
            let mut plain = rng.bytes(16 * blocks);
            // Bias towards plausible pads and lengths to reach the deeper checks.
            if let Some(last) = plain.last_mut() {
                *last = 1 + (*last % 32);
            }
            if plain.len() >= 20 && rng.next() & 1 == 0 {
                plain[16..20].copy_from_slice(&((rng.next() % 64) as u32).to_be_bytes());
            }
            let _ = c.decrypt(&encrypt_raw(&c.key, &plain));
        }
    }

    #[test]
    fn errors_display() {
        for e in [
            CryptoError::BadKey,
            CryptoError::BadBase64,
            CryptoError::BadLength,
            CryptoError::BadPadding,
            CryptoError::BadAppId,
            CryptoError::BadUtf8,
        ] {
            assert!(!e.to_string().is_empty());
        }
    }
}
