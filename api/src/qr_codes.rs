//! QR codes of URLs, as SVG and PNG.

use std::io::Cursor;

use image::{ImageFormat, Luma};
use qrcode::bits::Bits;
use qrcode::render::svg;
use qrcode::types::QrError;
use qrcode::{EcLevel, QrCode, QrResult, Version};
use refhub_domain::catalogue::{QR_CODE_MAX_BYTES, QrCodeRenderer};
use refhub_domain::{DomainError, DomainResult};

/// Pixels per module in PNGs: large enough to print and to scan from a screen.
const PNG_MODULE_PIXELS: u32 = 8;
/// Error correction level M: a code stays readable with 15 % of it damaged. The capacity the
/// domain checks links against ([`QR_CODE_MAX_BYTES`]) is this level's at version 40.
const EC_LEVEL: EcLevel = EcLevel::M;

/// The [`QrCodeRenderer`] adapter.
#[derive(Debug, Default, Clone, Copy)]
pub struct QrCodes;

#[derive(Debug, thiserror::Error)]
#[error("QR code: {0}")]
struct QrFailure(String);

/// The smallest code the crate's mixed-mode encoding finds; when that finds none, byte mode at
/// version 40, which holds any [`QR_CODE_MAX_BYTES`] bytes (the mixed-mode search is a
/// heuristic, so it alone would not promise that).
fn code(data: &str) -> DomainResult<QrCode> {
    QrCode::with_error_correction_level(data.as_bytes(), EC_LEVEL)
        .or_else(|_| largest_in_byte_mode(data.as_bytes()))
        .map_err(|err| match err {
            QrError::DataTooLong => DomainError::validation(
                "url",
                format!(
                    "is {} bytes; a QR code holds at most {QR_CODE_MAX_BYTES}",
                    data.len()
                ),
            ),
            other => DomainError::internal(QrFailure(other.to_string())),
        })
}

fn largest_in_byte_mode(data: &[u8]) -> QrResult<QrCode> {
    let mut bits = Bits::new(Version::Normal(40));
    bits.push_byte_data(data)?;
    bits.push_terminator(EC_LEVEL)?;
    QrCode::with_bits(bits, EC_LEVEL)
}

impl QrCodeRenderer for QrCodes {
    fn svg(&self, data: &str) -> DomainResult<String> {
        Ok(code(data)?
            .render::<svg::Color<'_>>()
            .min_dimensions(256, 256)
            .quiet_zone(true)
            .build())
    }

    fn png(&self, data: &str) -> DomainResult<Vec<u8>> {
        let image = code(data)?
            .render::<Luma<u8>>()
            .module_dimensions(PNG_MODULE_PIXELS, PNG_MODULE_PIXELS)
            .quiet_zone(true)
            .build();
        let mut bytes = Cursor::new(Vec::new());
        image
            .write_to(&mut bytes, ImageFormat::Png)
            .map_err(|err| DomainError::internal(QrFailure(err.to_string())))?;
        Ok(bytes.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domains_capacity_is_the_largest_code_in_byte_mode() {
        assert!(largest_in_byte_mode(&[b'a'; QR_CODE_MAX_BYTES]).is_ok());
        assert!(matches!(
            largest_in_byte_mode(&[b'a'; QR_CODE_MAX_BYTES + 1]),
            Err(QrError::DataTooLong)
        ));
    }

    #[test]
    fn any_url_up_to_the_capacity_is_drawn() {
        // Runs of every character class, where mixed-mode segmentation has most to weigh.
        let pattern = "https://m.me/a?ref=x%26%C3%A9123456789ABCDEF.-_~zz&text=Q%20";
        let url: String = pattern.chars().cycle().take(QR_CODE_MAX_BYTES).collect();
        assert!(QrCodes.svg(&url).is_ok());
        assert!(QrCodes.png(&url).is_ok());
        let digits_and_letters: String = "a1".repeat(QR_CODE_MAX_BYTES / 2);
        assert!(QrCodes.png(&digits_and_letters).is_ok());
        let err = QrCodes.png(&"a".repeat(QR_CODE_MAX_BYTES + 1)).unwrap_err();
        assert_eq!(err.field(), Some("url"));
    }
}
