//! Upload type sniffing: whatever the bytes, the answer is an allowed image or document of
//! the declared kind, or a refusal; markup is never accepted as text.

#![no_main]

use chat_core::model::FileType;
use chat_http::filetype::{Refused, TEXT, classify};
use libfuzzer_sys::fuzz_target;

const MARKUP: [&str; 6] = ["<html", "<script", "<!doctype", "<svg", "<?xml", "<body"];

fuzz_target!(|data: &[u8]| {
    for declared in [FileType::Image, FileType::Document] {
        match classify(data, declared) {
            Ok((found, mime)) => {
                assert_eq!(found, declared);
                assert!(!data.is_empty());
                match found {
                    FileType::Image => assert!(mime.starts_with("image/"), "{mime}"),
                    FileType::Document => assert!(!mime.starts_with("image/"), "{mime}"),
                }
                if mime == TEXT {
                    let text = std::str::from_utf8(data)
                        .expect("text is UTF-8")
                        .to_ascii_lowercase();
                    assert!(
                        !MARKUP.iter().any(|marker| text.contains(marker)),
                        "markup as text"
                    );
                    assert!(!text.contains('\0'));
                }
            }
            Err(Refused::Empty) => assert!(data.is_empty()),
            Err(Refused::NotAllowed | Refused::Mismatch { .. }) => {}
        }
    }
});
