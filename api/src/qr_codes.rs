//! QR codes of URLs, as SVG and PNG.

use std::io::Cursor;

use image::{ImageFormat, Luma};
use qrcode::QrCode;
use qrcode::render::svg;
use refhub_domain::catalogue::QrCodeRenderer;
use refhub_domain::{DomainError, DomainResult};

/// Pixels per module in PNGs: large enough to print and to scan from a screen.
const PNG_MODULE_PIXELS: u32 = 8;

/// The [`QrCodeRenderer`] adapter.
#[derive(Debug, Default, Clone, Copy)]
pub struct QrCodes;

#[derive(Debug, thiserror::Error)]
#[error("QR code: {0}")]
struct QrFailure(String);

fn code(data: &str) -> DomainResult<QrCode> {
    QrCode::new(data.as_bytes()).map_err(|err| DomainError::internal(QrFailure(err.to_string())))
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
