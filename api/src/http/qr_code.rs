//! `GET /api/ref-links/{id}/qr.png`: a ref link's QR code as an image, for `<img>` tags and
//! downloads: authenticated like the API, or by a signed link (`RefLink.qrCodePngUrl`).

use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use refhub_domain::DomainError;
use refhub_domain::ids::RefLinkId;
use refhub_graphql::Services;

use super::bearer::require_principal_or_link;
use super::error::HttpError;

/// Serves the PNG.
pub async fn ref_link_qr_png(
    request: HttpRequest,
    id: web::Path<String>,
    services: web::Data<Services>,
) -> Result<HttpResponse, HttpError> {
    let principal = require_principal_or_link(&services.auth, &request).await?;
    let id: RefLinkId = id
        .parse()
        .map_err(|_| DomainError::validation("id", "is not a valid ID"))?;
    let link = services.ref_links.get(&principal, id).await?;
    // A link too long for a QR code answers 400 VALIDATION naming the field to shorten.
    let url = services.ref_links.qr_code_url(&link).await?;
    let png = services.qr_codes.png(&url)?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::png())
        .insert_header(CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::MaxAge(300),
        ]))
        .body(png))
}
