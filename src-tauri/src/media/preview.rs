//! A citizen's photo as the desk shows it: decoded here (pure-Rust decoders, bounded in
//! size and memory), turned upright, scaled to fit `PREVIEW_EDGE` and encoded again as a
//! JPEG with nothing but pixels in it. The web view only ever decodes this re-encoding, and
//! no EXIF (position, camera, owner) survives into it. The position the photo's EXIF gives
//! is read apart, as a hint for the map.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// The longest edge of a preview: sharp in the enlarged view, small enough to keep.
pub const PREVIEW_EDGE: u32 = 1280;
/// The largest photo decoded (a 48-megapixel phone camera is 8000 × 6000).
const MAX_EDGE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// Why a photo cannot be shown.
#[derive(Debug, thiserror::Error)]
#[error("the photo cannot be shown: {0}")]
pub struct PreviewError(String);

/// Decodes `bytes` as `media_type` (what the bytes were found to be) and encodes a preview.
pub fn preview(bytes: &[u8], media_type: &str) -> Result<Vec<u8>, PreviewError> {
    let format = ImageFormat::from_mime_type(media_type)
        .filter(|f| matches!(f, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP))
        .ok_or_else(|| PreviewError(format!("{media_type} is not a photo type the desk reads")))?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_EDGE);
    limits.max_image_height = Some(MAX_EDGE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let bad = |e: image::ImageError| PreviewError(e.to_string());
    let mut decoder = reader.into_decoder().map_err(bad)?;
    let orientation = decoder.orientation().map_err(bad)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(bad)?;
    img.apply_orientation(orientation);
    if img.width() > PREVIEW_EDGE || img.height() > PREVIEW_EDGE {
        img = img.thumbnail(PREVIEW_EDGE, PREVIEW_EDGE);
    }
    let rgb = img.to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 82)
        .encode_image(&rgb)
        .map_err(bad)?;
    Ok(jpeg)
}

/// Where the photo says it was taken (EXIF GPS), when it says so plausibly.
pub fn gps_position(bytes: &[u8]) -> Option<(f64, f64)> {
    use exif::{In, Tag, Value};
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .ok()?;
    let degrees = |tag: Tag, reference: Tag, negative: u8| -> Option<f64> {
        let Value::Rational(parts) = &exif.get_field(tag, In::PRIMARY)?.value else {
            return None;
        };
        let [d, m, s] = parts.as_slice() else {
            return None;
        };
        let value = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let sign = match &exif.get_field(reference, In::PRIMARY)?.value {
            Value::Ascii(v) if v.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * value)
    };
    let lat = degrees(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let lon = degrees(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    let plausible = lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
        && !(lat == 0.0 && lon == 0.0);
    plausible.then_some((lat, lon))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of a preview, read back.
    fn size_of(jpeg: &[u8]) -> (u32, u32) {
        let img = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).expect("a JPEG");
        (img.width(), img.height())
    }

    const STREET: &[u8] = include_bytes!("../../../crates/lifeline-hub/drill-media/street.jpg");

    #[test]
    fn a_photo_is_re_encoded_without_its_exif_and_its_position_is_read_apart() {
        let photo = lifeline_core::synth::media::jpeg_with_gps(STREET, -33.8688, 151.2093);
        let (lat, lon) = gps_position(&photo).expect("the position written in");
        assert!(
            (lat + 33.8688).abs() < 1e-4 && (lon - 151.2093).abs() < 1e-4,
            "{lat},{lon}"
        );
        let p = preview(&photo, "image/jpeg").expect("a JPEG");
        assert_eq!(size_of(&p), (640, 426));
        assert_eq!(gps_position(&p), None, "the preview carries no position");
        assert!(
            !p.windows(4).any(|w| w == b"Exif"),
            "no EXIF segment in the preview"
        );
    }

    #[test]
    fn every_photo_type_taken_decodes_and_a_broken_one_is_an_error() {
        for (file, media_type) in [
            (
                &include_bytes!("../../../tests/media/street.png")[..],
                "image/png",
            ),
            (
                &include_bytes!("../../../tests/media/street.webp")[..],
                "image/webp",
            ),
        ] {
            let p = preview(file, media_type).expect(media_type);
            assert_eq!(size_of(&p), (320, 213), "{media_type}");
        }
        let cut = &STREET[..STREET.len() / 3];
        let mut garbage = STREET[..20].to_vec();
        garbage.extend(std::iter::repeat_n(0x5a, 4000));
        assert!(preview(&garbage, "image/jpeg").is_err());
        // A cut JPEG decodes what it has or fails; it never panics.
        let _ = preview(cut, "image/jpeg");
        assert!(preview(STREET, "image/heic").is_err());
    }
}
