//! Photos, voice messages and video clips a citizen sends on a thread.
//!
//! A file is named by the SHA-256 of its bytes (content-addressed): the hub stores each once,
//! a desk asks for it by that name and checks the bytes it gets against it. What a file *is*
//! is read from its bytes, never from its name or the type its sender declared ([`sniff`]),
//! and only a short list of types is taken: each one a desk can show without handing the
//! bytes to anything but its own decoders (images are re-encoded in Rust before the web view
//! sees them) or the web view's media player (audio and video).

use sha2::{Digest, Sha256};

use super::FieldError;

/// What kind of thing a file is, which decides the message kind it may travel in and its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaFamily {
    Image,
    Audio,
    Video,
}

impl MediaFamily {
    /// The largest file of this family a hub takes: a phone's photo, a few minutes of voice,
    /// a short clip. A desk refuses a bigger one too.
    pub fn cap_bytes(self) -> u64 {
        match self {
            MediaFamily::Image => 10 * 1024 * 1024,
            MediaFamily::Audio => 8 * 1024 * 1024,
            MediaFamily::Video => 32 * 1024 * 1024,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MediaFamily::Image => "image",
            MediaFamily::Audio => "audio",
            MediaFamily::Video => "video",
        }
    }

    /// The family a declared `type/subtype` says, if it says one.
    pub fn of_declared(media_type: &str) -> Option<MediaFamily> {
        match media_type
            .split('/')
            .next()?
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "image" => Some(MediaFamily::Image),
            "audio" => Some(MediaFamily::Audio),
            "video" => Some(MediaFamily::Video),
            _ => None,
        }
    }
}

/// The largest file any family takes: what a reader may buffer before it knows the family.
pub const MAX_MEDIA_BYTES: u64 = 32 * 1024 * 1024;

/// What the bytes of an accepted file are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// The one spelling kept and served: `image/jpeg`, `audio/ogg`, `video/mp4`…
    pub media_type: &'static str,
    pub family: MediaFamily,
}

/// Why a file is not taken. The text names what was found, so the channel can tell the
/// citizen (or its operator) what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaRefusal {
    #[error("the file is empty")]
    Empty,
    #[error("a {family} file may be at most {cap} bytes; this one is {size}", family = .family.as_str())]
    TooLarge {
        family: MediaFamily,
        cap: u64,
        size: u64,
    },
    #[error(
        "the bytes are {found}, which is not a photo (JPEG, PNG, WebP), a voice message (AAC/MP4, Opus/Ogg, AMR, WAV) or a video (MP4/H.264)"
    )]
    Unsupported { found: String },
    #[error("declared as {declared}, but the bytes are {found}")]
    Mismatch { declared: String, found: String },
}

impl MediaRefusal {
    /// The error code a hub answers with.
    pub fn code(&self) -> &'static str {
        match self {
            MediaRefusal::Empty | MediaRefusal::Unsupported { .. } => "unsupported_media",
            MediaRefusal::TooLarge { .. } => "too_large",
            MediaRefusal::Mismatch { .. } => "media_type_mismatch",
        }
    }
}

/// The ISO base-media brands of an MP4 file as phones and encoders write them.
const MP4_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"3gp4", b"3gp5",
    b"3gp6", b"dash", b"MSNV",
];
/// Brands of audio-only MP4 (`.m4a`).
const M4A_BRANDS: &[&[u8; 4]] = &[b"M4A ", b"M4B "];
/// Brands of HEIF/HEIC photos: recognised to name them in a refusal (no decoder here).
const HEIF_BRANDS: &[&[u8; 4]] = &[b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"];

fn mp4_brand(bytes: &[u8]) -> Option<&[u8]> {
    (bytes.len() >= 12 && &bytes[4..8] == b"ftyp").then(|| &bytes[8..12])
}

/// What the bytes are, from their first bytes alone; `None` when not an accepted type.
fn recognise(bytes: &[u8]) -> Option<Sniffed> {
    use MediaFamily::*;
    let it = |media_type, family| Some(Sniffed { media_type, family });
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return it("image/jpeg", Image);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return it("image/png", Image);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" {
        match &bytes[8..12] {
            b"WEBP" => return it("image/webp", Image),
            b"WAVE" => return it("audio/wav", Audio),
            _ => return None,
        }
    }
    // Ogg carrying Opus: the first page's packet starts with `OpusHead`.
    if bytes.starts_with(b"OggS") && bytes.len() >= 36 && &bytes[28..36] == b"OpusHead" {
        return it("audio/ogg", Audio);
    }
    if bytes.starts_with(b"#!AMR\n") || bytes.starts_with(b"#!AMR-WB\n") {
        return it("audio/amr", Audio);
    }
    if let Some(brand) = mp4_brand(bytes) {
        if M4A_BRANDS.iter().any(|b| b.as_slice() == brand) {
            return it("audio/mp4", Audio);
        }
        if MP4_BRANDS.iter().any(|b| b.as_slice() == brand) {
            return it("video/mp4", Video);
        }
    }
    None
}

/// A name for bytes that are not taken, for the refusal.
fn describe(bytes: &[u8]) -> String {
    if let Some(brand) = mp4_brand(bytes)
        && HEIF_BRANDS.iter().any(|b| b.as_slice() == brand)
    {
        return "a HEIC/HEIF photo (send it as JPEG)".into();
    }
    if bytes.starts_with(b"\x7fELF") {
        return "an executable program (ELF)".into();
    }
    if bytes.starts_with(b"MZ") {
        return "an executable program (Windows)".into();
    }
    match infer::get(bytes) {
        Some(t) => t.mime_type().to_owned(),
        None if std::str::from_utf8(bytes).is_ok() => "text".into(),
        None => "of an unknown type".into(),
    }
}

/// What a file is, read from its bytes; `declared` (the sender's `Content-Type`) must agree
/// on the family when it names one. The size is checked against the family's cap.
pub fn sniff(bytes: &[u8], declared: Option<&str>) -> Result<Sniffed, MediaRefusal> {
    if bytes.is_empty() {
        return Err(MediaRefusal::Empty);
    }
    let Some(found) = recognise(bytes) else {
        return Err(MediaRefusal::Unsupported {
            found: describe(bytes),
        });
    };
    let size = bytes.len() as u64;
    let cap = found.family.cap_bytes();
    if size > cap {
        return Err(MediaRefusal::TooLarge {
            family: found.family,
            cap,
            size,
        });
    }
    if let Some(declared) = declared
        && let Some(family) = MediaFamily::of_declared(declared)
        && !fits(family, found)
    {
        return Err(MediaRefusal::Mismatch {
            declared: declared.to_owned(),
            found: found.media_type.to_owned(),
        });
    }
    Ok(found)
}

/// Whether a file of `found` may travel as `family`: an MP4 container holding only sound is
/// often written with a video brand, so a voice message may be one.
pub fn fits(family: MediaFamily, found: Sniffed) -> bool {
    family == found.family || (family == MediaFamily::Audio && found.media_type == "video/mp4")
}

/// The content address of some bytes: lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::hex::lower(&Sha256::digest(bytes))
}

/// Checks a content address as given by someone else (64 lowercase hex digits).
pub fn check_sha256(field: &str, s: &str) -> Result<(), FieldError> {
    if s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "a SHA-256 in 64 lowercase hex digits",
        ))
    }
}

/// A file on a message: what it is and where to get it. The name is the citizen's (it may
/// say who they are) and is shown only as text.
#[derive(Clone, PartialEq)]
pub struct MediaRef {
    pub sha256: String,
    pub media_type: String,
    pub size_bytes: u64,
    pub name: Option<String>,
}
crate::private_debug!(MediaRef { sha256, media_type, size_bytes ; name });

impl MediaRef {
    pub fn family(&self) -> Option<MediaFamily> {
        MediaFamily::of_declared(&self.media_type)
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        check_sha256("media.sha256", &self.sha256)?;
        let Some(family) = self.family() else {
            return Err(FieldError::new(
                "media.media_type",
                "an image, audio or video type",
            ));
        };
        if self.size_bytes == 0 || self.size_bytes > family.cap_bytes() {
            return Err(FieldError::new(
                "media.size_bytes",
                format!("1 to {} bytes", family.cap_bytes()),
            ));
        }
        if let Some(n) = &self.name {
            super::check_text("media.name", n, super::request::MAX_SHORT_BYTES)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(&[0; 32]);
        b
    }

    #[test]
    fn the_type_comes_from_the_bytes_not_the_declaration() {
        assert_eq!(
            sniff(&png(), Some("image/jpeg")).expect("a PNG said to be a JPEG is still an image"),
            Sniffed {
                media_type: "image/png",
                family: MediaFamily::Image
            }
        );
        let refused = sniff(&png(), Some("audio/ogg")).expect_err("a PNG declared as audio");
        assert_eq!(refused.code(), "media_type_mismatch");
        assert!(refused.to_string().contains("image/png"), "{refused}");
    }

    #[test]
    fn an_executable_renamed_as_a_photo_is_named_and_refused() {
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.extend_from_slice(&[0; 64]);
        let refused = sniff(&elf, Some("image/jpeg")).expect_err("an executable");
        assert_eq!(refused.code(), "unsupported_media");
        assert!(refused.to_string().contains("executable"), "{refused}");
    }

    #[test]
    fn a_file_over_its_family_cap_is_refused() {
        let mut big = vec![0xFF, 0xD8, 0xFF, 0xE0];
        big.resize(MediaFamily::Image.cap_bytes() as usize + 1, 0);
        assert!(matches!(
            sniff(&big, None),
            Err(MediaRefusal::TooLarge {
                family: MediaFamily::Image,
                ..
            })
        ));
    }

    #[test]
    fn mp4_brands_decide_audio_or_video_and_heic_is_named() {
        let ftyp = |brand: &[u8; 4]| {
            let mut b = vec![0, 0, 0, 0x18];
            b.extend_from_slice(b"ftyp");
            b.extend_from_slice(brand);
            b.extend_from_slice(&[0; 12]);
            b
        };
        assert_eq!(
            sniff(&ftyp(b"M4A "), None).map(|s| s.media_type),
            Ok("audio/mp4")
        );
        let video = sniff(&ftyp(b"isom"), Some("audio/mp4")).expect("an mp4 voice message");
        assert!(fits(MediaFamily::Audio, video));
        assert!(!fits(MediaFamily::Image, video));
        let heic = sniff(&ftyp(b"heic"), None).expect_err("no HEIC decoder");
        assert!(heic.to_string().contains("HEIC"), "{heic}");
    }

    #[test]
    fn content_addresses_are_checked() {
        let sha = sha256_hex(b"abc");
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(check_sha256("s", &sha).is_ok());
        assert!(check_sha256("s", &sha.to_uppercase()).is_err());
        assert!(check_sha256("s", "../etc/passwd").is_err());
    }
}
