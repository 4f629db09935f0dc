//! What an uploaded file may be, and what is kept of it: the type is sniffed from the
//! content (never the name or the client's header); a JPEG, PNG or WebP is decoded
//! under limits and re-encoded, so no EXIF (GPS, device) survives and the orientation
//! is applied; a PDF is kept as sent once it is whole and carries no script. Anything
//! else — HEIC, a truncated file, a polyglot, a decompression bomb — is refused with
//! `BAD_USER_INPUT` before anything is stored. CPU-bound: the service runs it on a
//! blocking thread.
use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// The argument a refusal names.
const FIELD: &str = "file";

/// Bounds on one file and its decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileLimits {
    /// The largest file accepted, in bytes.
    pub max_bytes: usize,
    /// The widest or tallest image accepted, in pixels.
    pub max_side: u32,
    /// The most memory one decoding may allocate, in bytes.
    pub max_decode_bytes: u64,
    /// A thumbnail fits in a square of this side.
    pub thumbnail_side: u32,
}

impl FileLimits {
    /// 10 000 px a side and 512 MiB for a decoding (its pixels, the oriented copy and
    /// the RGBA copy): a 48-megapixel phone photo decodes, a bomb that claims more is
    /// refused before its pixels are allocated.
    pub const fn with_max_bytes(max_bytes: usize) -> Self {
        FileLimits {
            max_bytes,
            max_side: 10_000,
            max_decode_bytes: 512 * 1024 * 1024,
            thumbnail_side: 320,
        }
    }
}

/// The kinds of file accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

/// A file ready to store.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    /// SHA-256 (hex) of `bytes`: the store's key, so the same file is stored once.
    pub sha256: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// A JPEG (or PNG, for an image with transparency) of at most
    /// `thumbnail_side` pixels a side; none for a PDF.
    pub thumbnail: Option<Vec<u8>>,
}

fn refuse(message: &str) -> AppError {
    AppError::bad_input(FIELD, message)
}

/// The file's kind, from its first bytes.
pub fn sniff(bytes: &[u8]) -> AppResult<Kind> {
    let kind = infer::get(bytes).map(|k| k.mime_type());
    match kind {
        Some("image/jpeg") => Ok(Kind::Jpeg),
        Some("image/png") => Ok(Kind::Png),
        Some("image/webp") => Ok(Kind::Webp),
        Some("application/pdf") => Ok(Kind::Pdf),
        Some("image/heif" | "image/heic" | "image/heif-sequence" | "image/heic-sequence") => {
            Err(refuse(
                "不支持HEIC照片，请在相机设置中选择“兼容性最佳”或转为JPEG后上传 \
                 (HEIC photos are not accepted: choose \"Most Compatible\" in the camera's \
                 format settings, or convert the photo to JPEG)",
            ))
        }
        _ => Err(refuse(
            "仅支持JPEG、PNG、WebP图片和PDF文件 (only JPEG, PNG and WebP images and PDF documents are accepted)",
        )),
    }
}

/// Whether the file ends where its format says it ends (a cut-off upload does not).
fn is_whole(kind: Kind, bytes: &[u8]) -> bool {
    match kind {
        // Some cameras pad after the end-of-image marker with zeros.
        Kind::Jpeg => {
            let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
            bytes[..end].ends_with(&[0xFF, 0xD9])
        }
        Kind::Png => bytes.ends_with(&[0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]),
        // The RIFF header says how long the file is (plus one byte of padding if odd).
        Kind::Webp => bytes.get(4..8).is_some_and(|size| {
            let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
            size.checked_add(8)
                .is_some_and(|n| n == bytes.len() || n + 1 == bytes.len())
        }),
        Kind::Pdf => {
            let tail = &bytes[bytes.len().saturating_sub(1024)..];
            find_ci(tail, &[b"%%EOF"]).is_some()
        }
    }
}

/// Markers of a second format hidden in a file (markup a browser would run, a PHP
/// script, a ZIP archive's directory at the end, a PDF inside an image) or of a PDF
/// that acts when opened. Found anywhere, the file is refused.
const MARKUP: &[&[u8]] = &[
    b"<script",
    b"<html",
    b"<!doctype",
    b"<svg",
    b"<iframe",
    b"<?php",
];
const PDF_ACTIVE: &[&[u8]] = &[b"/JavaScript", b"/Launch", b"/EmbeddedFile", b"/RichMedia"];

/// Where the first of `needles` occurs in `haystack`, ignoring ASCII case.
fn find_ci(haystack: &[u8], needles: &[&[u8]]) -> Option<usize> {
    let finder = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(needles)
        .ok()?;
    finder.find(haystack).map(|m| m.start())
}

/// Whether the file is also something else (see [`MARKUP`]).
fn is_polyglot(kind: Kind, bytes: &[u8]) -> bool {
    if find_ci(bytes, MARKUP).is_some() {
        return true;
    }
    // A ZIP's end-of-central-directory record sits in its last 64 KiB + 22 bytes.
    let tail = &bytes[bytes.len().saturating_sub(65_557)..];
    if find_ci(tail, &[b"PK\x05\x06"]).is_some() {
        return true;
    }
    match kind {
        Kind::Pdf => find_ci(bytes, PDF_ACTIVE).is_some(),
        _ => find_ci(bytes, &[b"%PDF-"]).is_some(),
    }
}

/// Checks an upload and makes what is stored of it.
pub fn prepare(bytes: &[u8], limits: &FileLimits) -> AppResult<Prepared> {
    if bytes.len() > limits.max_bytes {
        return Err(too_large(limits));
    }
    if bytes.is_empty() {
        return Err(refuse("文件为空 (the file is empty)"));
    }
    let kind = sniff(bytes)?;
    if !is_whole(kind, bytes) {
        return Err(refuse(
            "文件不完整或已损坏 (the file is truncated or damaged)",
        ));
    }
    if is_polyglot(kind, bytes) {
        return Err(refuse(
            "文件含有其他格式的内容，不予接收 (the file also contains another format or active content)",
        ));
    }
    match kind {
        Kind::Pdf => Ok(Prepared {
            content_type: "application/pdf",
            sha256: sha256_hex(bytes),
            bytes: bytes.to_vec(),
            width: None,
            height: None,
            thumbnail: None,
        }),
        Kind::Jpeg => reencode(bytes, ImageFormat::Jpeg, limits),
        Kind::Png => reencode(bytes, ImageFormat::Png, limits),
        Kind::Webp => reencode(bytes, ImageFormat::WebP, limits),
    }
}

/// The refusal of a file over `max_bytes` (also used before reading one).
pub fn too_large(limits: &FileLimits) -> AppError {
    let mb = limits.max_bytes as f64 / (1024.0 * 1024.0);
    refuse(&format!(
        "文件不能超过{mb:.0}MB (a file may be at most {} bytes)",
        limits.max_bytes
    ))
}

/// Decodes under the limits, applies the EXIF orientation, and encodes again: JPEG,
/// or PNG for an image with transparency. Nothing of the original's metadata is
/// copied.
fn reencode(bytes: &[u8], format: ImageFormat, limits: &FileLimits) -> AppResult<Prepared> {
    let image = decode(bytes, format, limits)?;
    let (width, height) = (image.width(), image.height());
    let transparent = image.color().has_alpha();
    let stored = encode(&image, transparent)?;
    let thumbnail = encode(
        &image.thumbnail(limits.thumbnail_side, limits.thumbnail_side),
        transparent,
    )?;
    Ok(Prepared {
        content_type: if transparent {
            "image/png"
        } else {
            "image/jpeg"
        },
        sha256: sha256_hex(&stored),
        bytes: stored,
        width: Some(width),
        height: Some(height),
        thumbnail: Some(thumbnail),
    })
}

fn decode(bytes: &[u8], format: ImageFormat, limits: &FileLimits) -> AppResult<DynamicImage> {
    let mut decoding = image::Limits::default();
    decoding.max_image_width = Some(limits.max_side);
    decoding.max_image_height = Some(limits.max_side);
    decoding.max_alloc = Some(limits.max_decode_bytes);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoding.clone());
    let mut decoder = reader.into_decoder().map_err(decoding_failed)?;
    // The decoders check only width and height; the pixels are allocated unchecked
    // (only `ImageReader::decode` reserves them). So reserve them here, with the copy
    // that orienting makes and the RGBA copy that encoding makes: a small file that
    // would decode to gigabytes is refused before any of it is allocated.
    let (width, height) = decoder.dimensions();
    let pixels = decoder.total_bytes();
    let rgba = u64::from(width) * u64::from(height) * 4;
    decoding
        .reserve(pixels.saturating_mul(2).saturating_add(rgba))
        .map_err(decoding_failed)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(decoding_failed)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn decoding_failed(error: image::ImageError) -> AppError {
    match error {
        image::ImageError::Limits(_) => {
            refuse("图片尺寸过大 (the image is too large in pixels; at most 10000 a side)")
        }
        _ => refuse("图片已损坏，无法读取 (the image is damaged and cannot be read)"),
    }
}

fn encode(image: &DynamicImage, transparent: bool) -> AppResult<Vec<u8>> {
    let mut out = Vec::new();
    let written = if transparent {
        image
            .to_rgba8()
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
    } else {
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
            .encode_image(&image.to_rgb8())
    };
    written.map_err(|e| AppError::internal(format!("image encoding failed: {e}")))?;
    Ok(out)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 10, 10]));
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    const LIMITS: FileLimits = FileLimits::with_max_bytes(1024 * 1024);

    /// The decoders check only the sides; the pixels' memory is checked here, before
    /// any of it is allocated: a small file that decodes to more is refused.
    #[test]
    fn pixels_beyond_the_decoding_budget_are_refused() {
        let small_file = png(1000, 1000);
        assert!(small_file.len() < 64 * 1024, "{} bytes", small_file.len());
        let tight = FileLimits {
            max_decode_bytes: 4 * 1024 * 1024,
            ..LIMITS
        };
        let refused = decode(&small_file, ImageFormat::Png, &tight).expect_err("over budget");
        assert_eq!(refused.code(), "BAD_USER_INPUT");
        assert!(decode(&small_file, ImageFormat::Png, &LIMITS).is_ok());
    }

    #[test]
    fn an_image_is_reencoded_with_its_size_and_a_thumbnail() {
        let prepared = prepare(&png(640, 200), &LIMITS).unwrap();
        assert_eq!(prepared.content_type, "image/jpeg");
        assert_eq!((prepared.width, prepared.height), (Some(640), Some(200)));
        assert_eq!(sniff(&prepared.bytes).unwrap(), Kind::Jpeg);
        let thumb = image::load_from_memory(prepared.thumbnail.as_ref().unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 100));
        assert_eq!(prepared.sha256, sha256_hex(&prepared.bytes));
    }

    #[test]
    fn the_same_image_prepares_to_the_same_bytes() {
        let a = prepare(&png(30, 30), &LIMITS).unwrap();
        let b = prepare(&png(30, 30), &LIMITS).unwrap();
        assert_eq!(a.sha256, b.sha256);
    }

    #[test]
    fn refusals_are_bad_user_input() {
        let whole = png(20, 20);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("text", b"hello, this is not an image".to_vec()),
            ("truncated", whole[..whole.len() - 10].to_vec()),
            (
                "markup",
                [whole.clone(), b"<script>alert(1)</script>".to_vec()].concat(),
            ),
            ("empty", Vec::new()),
            ("oversize", vec![0xFF; LIMITS.max_bytes + 1]),
        ];
        for (what, bytes) in cases {
            let error = prepare(&bytes, &LIMITS).expect_err(what);
            assert!(
                matches!(error, AppError::BadUserInput { .. }),
                "{what}: {error:?}"
            );
        }
    }

    #[test]
    fn a_pdf_is_kept_unless_it_acts_when_opened() {
        let pdf =
            b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
        let prepared = prepare(pdf, &LIMITS).unwrap();
        assert_eq!(prepared.content_type, "application/pdf");
        assert_eq!(prepared.bytes, pdf.to_vec());
        assert!(prepared.thumbnail.is_none());
        let active = b"%PDF-1.4\n1 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\n%%EOF\n";
        assert!(prepare(active, &LIMITS).is_err());
        assert!(prepare(&pdf[..30], &LIMITS).is_err(), "no %%EOF: truncated");
    }
}
