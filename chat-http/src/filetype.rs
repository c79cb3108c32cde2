//! Decides what an upload is from its bytes, never from its name or declared type, and
//! refuses anything that is not an allowed image or document.

use chat_core::model::FileType;

/// Images shown inline.
const IMAGES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Documents offered for download.
const DOCUMENTS: [&str; 11] = [
    "application/pdf",
    "application/rtf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// The MIME type of plain text and CSV, which have no magic bytes.
pub const TEXT: &str = "text/plain; charset=utf-8";

/// Markers that make text unsafe to serve even as plain text to old browsers.
const MARKUP: [&str; 6] = ["<html", "<script", "<!doctype", "<svg", "<?xml", "<body"];

/// Why an upload's content was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Nothing to store.
    #[error("the file is empty")]
    Empty,
    /// Not an allowed image or document (SVG, HTML, executables, archives …).
    #[error("this kind of file is not accepted")]
    NotAllowed,
    /// An allowed kind, but not the declared `fileType`.
    #[error("the file's content is a {found}, not the declared {declared}")]
    Mismatch {
        /// What the content is.
        found: &'static str,
        /// What the request said.
        declared: &'static str,
    },
}

/// The file type and MIME type of `bytes`, if it is an allowed kind matching `declared`.
pub fn classify(bytes: &[u8], declared: FileType) -> Result<(FileType, &'static str), Refused> {
    let (found, mime) = sniff(bytes)?;
    if found != declared {
        return Err(Refused::Mismatch {
            found: name(found),
            declared: name(declared),
        });
    }
    Ok((found, mime))
}

fn sniff(bytes: &[u8]) -> Result<(FileType, &'static str), Refused> {
    if bytes.is_empty() {
        return Err(Refused::Empty);
    }
    if let Some(kind) = infer::get(bytes) {
        let mime = kind.mime_type();
        if let Some(image) = IMAGES.iter().find(|m| **m == mime) {
            return Ok((FileType::Image, image));
        }
        if let Some(document) = DOCUMENTS.iter().find(|m| **m == mime) {
            return Ok((FileType::Document, document));
        }
        return Err(Refused::NotAllowed);
    }
    if is_plain_text(bytes) {
        Ok((FileType::Document, TEXT))
    } else {
        Err(Refused::NotAllowed)
    }
}

/// UTF-8 without NUL or markup: plain text or CSV.
fn is_plain_text(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let lower = text.to_ascii_lowercase();
    !text.contains('\0') && !MARKUP.iter().any(|marker| lower.contains(marker))
}

fn name(file_type: FileType) -> &'static str {
    match file_type {
        FileType::Image => "image",
        FileType::Document => "document",
    }
}
