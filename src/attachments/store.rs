//! The files: an upload is streamed into a temporary file in the attachments folder while
//! it is hashed and counted, refused as soon as it passes the size limit, recognised by its
//! first bytes, and only then moved to its place, named by its SHA-256 — so a bad, oversized
//! or interrupted upload leaves nothing behind (the temporary file is removed when dropped)
//! and a file sent twice is stored once.

use std::fs;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use crate::attachments::rules::{self, ContentType, SNIFF_BYTES};
use crate::error::{AppError, AppResult};

/// Where the files live, and how large one may be.
#[derive(Debug, Clone)]
pub struct Store {
    pub dir: PathBuf,
    pub max_bytes: u64,
}

/// A file received whole and recognised, not yet in its place.
pub struct Received {
    file: NamedTempFile,
    pub sha256: String,
    pub bytes: u64,
    pub content_type: ContentType,
}

/// What a stored file is.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub sha256: String,
    pub bytes: u64,
    pub content_type: ContentType,
    pub taken_at: Option<NaiveDateTime>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// An upload in progress.
pub struct Upload {
    file: NamedTempFile,
    hasher: Sha256,
    bytes: u64,
    head: Vec<u8>,
    max_bytes: u64,
}

fn io(context: &str) -> impl Fn(std::io::Error) -> AppError + '_ {
    move |e| AppError::internal(format!("{context}: {e}"))
}

impl Store {
    /// Starts an upload: a temporary file in the folder (the same file system as its final
    /// place, so that keeping it is a rename).
    pub fn begin(&self) -> AppResult<Upload> {
        let tmp = self.dir.join("tmp");
        fs::create_dir_all(&tmp).map_err(io("creating the attachments folder"))?;
        let file = NamedTempFile::new_in(&tmp).map_err(io("creating an upload file"))?;
        Ok(Upload {
            file,
            hasher: Sha256::new(),
            bytes: 0,
            head: Vec::with_capacity(SNIFF_BYTES),
            max_bytes: self.max_bytes,
        })
    }

    /// Where the file with this digest lives: `ab/abcdef…` (a folder per first byte keeps
    /// folders small).
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("00");
        self.dir.join(prefix).join(sha256)
    }

    /// Puts a received file in its place (once: a file already there is the same file)
    /// and reads what its EXIF says.
    pub fn keep(&self, received: Received) -> AppResult<Stored> {
        let path = self.path_of(&received.sha256);
        if !path.exists() {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(io("creating the attachments folder"))?;
            }
            received
                .file
                .persist(&path)
                .map_err(|e| AppError::internal(format!("keeping an upload: {}", e.error)))?;
        }
        let (taken_at, lat, lon) = match received.content_type {
            ContentType::Jpeg | ContentType::Png | ContentType::Webp => photo_facts(&path),
            ContentType::Pdf => (None, None, None),
        };
        Ok(Stored {
            sha256: received.sha256,
            bytes: received.bytes,
            content_type: received.content_type,
            taken_at,
            lat,
            lon,
        })
    }
}

impl Upload {
    /// Appends a chunk; past the limit the upload is refused (413) and its file removed.
    pub fn write(&mut self, chunk: &[u8]) -> AppResult<()> {
        self.bytes += chunk.len() as u64;
        if self.bytes > self.max_bytes {
            return Err(AppError::PayloadTooLarge {
                limit: usize::try_from(self.max_bytes).unwrap_or(usize::MAX),
            });
        }
        if self.head.len() < SNIFF_BYTES {
            let wanted = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..wanted]);
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).map_err(io("writing an upload"))
    }

    /// The whole file: recognised by its first bytes, or refused (415) and removed.
    pub fn finish(mut self) -> AppResult<Received> {
        self.file.flush().map_err(io("writing an upload"))?;
        if self.bytes == 0 {
            return Err(AppError::invalid("file", "the file is empty"));
        }
        let content_type = rules::sniff(&self.head).ok_or_else(|| {
            AppError::UnsupportedMediaType(
                "the file is not a JPEG, PNG or WebP image or a PDF (recognised by its content)"
                    .into(),
            )
        })?;
        Ok(Received {
            file: self.file,
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.bytes,
            content_type,
        })
    }
}

/// When and where a photo was taken, as far as its EXIF says (nothing when it has none or
/// it does not parse: a photo without EXIF is still evidence).
fn photo_facts(path: &Path) -> (Option<NaiveDateTime>, Option<f64>, Option<f64>) {
    use exif::{In, Tag, Value};
    let Ok(file) = fs::File::open(path) else {
        return (None, None, None);
    };
    let Ok(exif) = exif::Reader::new().read_from_container(&mut BufReader::new(file)) else {
        return (None, None, None);
    };
    let text = |tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(parts)) => parts
            .first()
            .and_then(|p| std::str::from_utf8(p).ok())
            .map(str::to_string),
        _ => None,
    };
    let dms = |tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Rational(parts)) if parts.len() == 3 => {
            Some([parts[0].to_f64(), parts[1].to_f64(), parts[2].to_f64()])
        }
        _ => None,
    };
    let taken_at = text(Tag::DateTimeOriginal)
        .or_else(|| text(Tag::DateTime))
        .and_then(|t| rules::exif_time(&t));
    let coordinate = |value, hemisphere, max| {
        let (dms, hemisphere) = (dms(value)?, text(hemisphere)?);
        rules::decimal_degrees(dms, &hemisphere, max)
    };
    let lat = coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef, 90.0);
    let lon = coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef, 180.0);
    // Half a point is no point.
    match (lat, lon) {
        (Some(lat), Some(lon)) => (taken_at, Some(lat), Some(lon)),
        _ => (taken_at, None, None),
    }
}
