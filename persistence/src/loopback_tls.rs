//! No TLS to a PostgreSQL server on this very machine, unless the URL insists on it.
//!
//! TLS over loopback protects nothing: whoever could read it could read the server's memory.
//! And through sqlx 0.9.0 it costs dearly. That release stopped setting `TCP_NODELAY` on its
//! sockets (launchbadge/sqlx#4335, fixed upstream in #4336 but not yet released); its TLS
//! stream then sometimes writes a request as two small segments, and the second waits for the
//! server's delayed acknowledgement of the first: 40 ms. Measured on the benchmark machine
//! (Debian's PostgreSQL has `ssl = on`, and sqlx's default `sslmode` is `prefer`): one in fifty
//! authenticated GraphQL requests took 12–100 ms where the rest took under 2 ms; p99 73 ms
//! with TLS against 3.3 ms without, with no other change.
//!
//! `prefer` means "TLS if the server offers it", so turning it off on loopback keeps its
//! meaning. An explicit `require`, `verify-ca` or `verify-full` is kept, as is any setting for
//! a remote server (where the same delay hits until sqlx ships the fix; README, Configuration).

use std::net::IpAddr;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgSslMode};

/// `options` without TLS when they would only prefer it to a server on this machine.
pub(crate) fn without_tls_on_loopback(options: PgConnectOptions) -> PgConnectOptions {
    if is_loopback(options.get_host()) && matches!(options.get_ssl_mode(), PgSslMode::Prefer) {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn mode(url: &str) -> PgSslMode {
        without_tls_on_loopback(PgConnectOptions::from_str(url).expect("a URL")).get_ssl_mode()
    }

    #[test]
    fn loopback_drops_a_preferred_tls() {
        for url in [
            "postgres://app@127.0.0.1:5432/db",
            "postgres://app@localhost/db",
            "postgres://app@[::1]:5432/db",
            "postgres://app@127.0.0.1/db?sslmode=prefer",
        ] {
            assert!(matches!(mode(url), PgSslMode::Disable), "{url}");
        }
    }

    #[test]
    fn insisted_or_remote_tls_is_kept() {
        assert!(matches!(
            mode("postgres://app@127.0.0.1/db?sslmode=require"),
            PgSslMode::Require
        ));
        assert!(matches!(
            mode("postgres://app@db.internal:5432/db"),
            PgSslMode::Prefer
        ));
        assert!(matches!(
            mode("postgres://app@10.0.0.7/db?sslmode=verify-full"),
            PgSslMode::VerifyFull
        ));
    }
}
