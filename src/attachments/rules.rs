//! What an attachment may be, recognised by its first bytes (never by its name or its
//! declared type), and what a photo's EXIF says about where and when it was taken.

/// Photos a record may carry (a report, a fix, a visit, an inspection).
pub const MAX_ATTACHMENTS: usize = 20;

use chrono::NaiveDateTime;

use crate::text_enum;

text_enum! {
    /// The kinds of file accepted, as their media types.
    pub enum ContentType {
        Jpeg = "image/jpeg",
        Png = "image/png",
        Webp = "image/webp",
        Pdf = "application/pdf",
    }
}

/// The bytes needed to recognise every accepted kind.
pub const SNIFF_BYTES: usize = 16;

/// The kind of file that starts with `head`, if it is one accepted.
pub fn sniff(head: &[u8]) -> Option<ContentType> {
    match head {
        [0xFF, 0xD8, 0xFF, ..] => Some(ContentType::Jpeg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(ContentType::Png),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(ContentType::Webp),
        [b'%', b'P', b'D', b'F', b'-', ..] => Some(ContentType::Pdf),
        _ => None,
    }
}

impl ContentType {
    /// A file name extension for downloads.
    pub fn extension(self) -> &'static str {
        match self {
            ContentType::Jpeg => "jpg",
            ContentType::Png => "png",
            ContentType::Webp => "webp",
            ContentType::Pdf => "pdf",
        }
    }
}

/// Degrees, minutes and seconds with their hemisphere (`N`, `S`, `E`, `W`) as a signed
/// decimal degree; `None` when out of range.
pub fn decimal_degrees(dms: [f64; 3], hemisphere: &str, max: f64) -> Option<f64> {
    let [d, m, s] = dms;
    if ![d, m, s].iter().all(|v| v.is_finite() && *v >= 0.0) || m >= 60.0 || s >= 60.0 {
        return None;
    }
    let value = d + m / 60.0 + s / 3600.0;
    if value > max {
        return None;
    }
    match hemisphere.trim() {
        "N" | "E" => Some(value),
        "S" | "W" => Some(-value),
        _ => None,
    }
}

/// EXIF's `YYYY:MM:DD HH:MM:SS` (the camera's local time, no zone).
pub fn exif_time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y:%m:%d %H:%M:%S").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_recognised_by_their_first_bytes() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(ContentType::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(ContentType::Png)
        );
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(ContentType::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(ContentType::Pdf));
        // A script named photo.jpg, a RIFF that is not WebP, a GIF, nothing at all.
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /\n"), None);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
    }

    #[test]
    fn gps_coordinates_become_signed_degrees() {
        let lat = decimal_degrees([35.0, 12.0, 54.0], "N", 90.0).expect("lat");
        assert!((lat - 35.215).abs() < 1e-9);
        let lon = decimal_degrees([115.0, 30.0, 18.0], "W", 180.0).expect("lon");
        assert!((lon + 115.505).abs() < 1e-9);
        assert_eq!(decimal_degrees([91.0, 0.0, 0.0], "N", 90.0), None);
        assert_eq!(decimal_degrees([35.0, 60.0, 0.0], "N", 90.0), None);
        assert_eq!(decimal_degrees([35.0, 0.0, 0.0], "X", 90.0), None);
        assert_eq!(decimal_degrees([f64::NAN, 0.0, 0.0], "N", 90.0), None);
    }

    #[test]
    fn exif_times_parse() {
        let t = exif_time("2020:07:22 09:30:05").expect("a time");
        assert_eq!(t.to_string(), "2020-07-22 09:30:05");
        assert_eq!(exif_time("2020-07-22 09:30:05"), None);
        assert_eq!(exif_time("    :  :     :  :  "), None);
    }
}
