//! The ceiling the webhook benchmark is compared with: an actix-web server that reads a POST
//! body and answers 200, doing nothing else. Same framework, same machine, same load.

use actix_web::{App, HttpResponse, HttpServer, web};

async fn accept(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok().body(if body.is_empty() {
        "EMPTY"
    } else {
        "EVENT_RECEIVED"
    })
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8090".to_owned());
    HttpServer::new(|| {
        App::new()
            .app_data(web::PayloadConfig::new(1024 * 1024))
            .default_service(web::to(accept))
    })
    .bind(bind)?
    .run()
    .await
}
