//! Who is calling: the address rate limits and logs use. By default it is the TCP peer, which
//! nobody can forge. Behind a load balancer every request comes from the balancer, so one
//! client's flood would use up everyone's allowance: with `TRUSTED_PROXIES` set, a request whose
//! peer is one of them is taken to come from the address that proxy recorded in the forwarding
//! header, walking the header from the right (the hop nearest us) past every trusted proxy, so
//! that whatever a client wrote into the header itself is never believed.

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};
use ipnet::IpNet;

/// The header a trusted proxy records the client in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardingHeader {
    /// `X-Forwarded-For: client, proxy1, …` (HAProxy's `option forwardfor`, nginx's
    /// `$proxy_add_x_forwarded_for`, most cloud balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for="[2001:db8::1]:4711"`.
    Forwarded,
}

impl FromStr for ForwardingHeader {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            other => Err(format!(
                "`{other}` is not a forwarding header: use X-Forwarded-For or Forwarded"
            )),
        }
    }
}

/// The proxies whose forwarding header is believed, and which header they write.
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardingHeader,
}

impl TrustedProxies {
    /// No proxy trusted: the TCP peer is the client.
    pub fn none() -> Self {
        Self {
            networks: Vec::new(),
            header: ForwardingHeader::XForwardedFor,
        }
    }

    /// Parses a comma-separated list of addresses and CIDR networks.
    pub fn parse(list: &str, header: ForwardingHeader) -> Result<Self, String> {
        let networks = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{entry}` is not an IP address or CIDR network"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { networks, header })
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.networks.iter().any(|net| net.contains(&address))
    }

    /// The client of a request that arrived from `peer` with these headers.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops = match self.header {
            ForwardingHeader::XForwardedFor => x_forwarded_for(headers),
            ForwardingHeader::Forwarded => forwarded(headers),
        };
        // From the nearest hop outwards: the first one not ours is the client. A hop that is
        // not an address (`unknown`, an obfuscated name) ends the walk at the last proxy we
        // trust, since nothing before it can be checked.
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(address) => {
                    client = canonical(*address);
                    if !self.trusts(client) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`, as a dual-stack socket reports it) is
/// the IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Every `X-Forwarded-For` value, joined in order (several headers read as one list).
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .map(|hop| parse_node(hop.trim()))
        .collect()
}

/// The `for=` of every element of every `Forwarded` header, in order.
fn forwarded(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("forwarded")
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, node)| parse_node(node.trim().trim_matches('"')))
        })
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(address);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The client's address, as the middleware worked it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client of a request (the peer when the middleware did not run, as in some unit tests).
pub fn client_ip(request: &HttpRequest) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ClientIp>()
        .map(|client| client.0)
        .or_else(|| request.peer_addr().map(|peer| canonical(peer.ip())))
}

/// The key an address's rate limits are counted under: IPv6 by /64, since one subscriber
/// usually holds a whole /64 and could otherwise take a fresh address for every request.
pub fn rate_limit_key(address: IpAddr) -> IpAddr {
    match canonical(address) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// Middleware: works out the client once per request and keeps it on the request.
pub async fn record_client_ip(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(peer) = request.peer_addr() {
        let proxies = request.app_data::<web::Data<TrustedProxies>>();
        let client = match proxies {
            Some(proxies) => proxies.client_of(peer.ip(), request.headers()),
            None => canonical(peer.ip()),
        };
        request.extensions_mut().insert(ClientIp(client));
    }
    next.call(request).await
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say() {
        let proxies = TrustedProxies::none();
        let forged = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(proxies.client_of(ip("10.0.0.5"), &forged), ip("10.0.0.5"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_a_forged_left_part_is_ignored() {
        let proxies =
            TrustedProxies::parse("10.0.0.0/8, 192.0.2.7", ForwardingHeader::XForwardedFor)
                .unwrap();
        // The client wrote `1.1.1.1` itself; the balancer appended the real peer it saw.
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.4, 10.1.2.3")]);
        assert_eq!(
            proxies.client_of(ip("192.0.2.7"), &chain),
            ip("198.51.100.4")
        );
        // An untrusted peer's header is not read at all.
        assert_eq!(
            proxies.client_of(ip("198.51.100.99"), &chain),
            ip("198.51.100.99")
        );
        // No header from a trusted peer: the peer.
        assert_eq!(
            proxies.client_of(ip("10.9.9.9"), &HeaderMap::new()),
            ip("10.9.9.9")
        );
        // A hop that is not an address stops the walk at the last trusted one.
        let unknown = headers(&[("x-forwarded-for", "198.51.100.4, unknown, 10.1.2.3")]);
        assert_eq!(proxies.client_of(ip("10.0.0.1"), &unknown), ip("10.1.2.3"));
    }

    #[test]
    fn the_forwarded_header_is_read_when_configured() {
        let proxies = TrustedProxies::parse("::1, 127.0.0.1", ForwardingHeader::Forwarded).unwrap();
        let chain = headers(&[(
            "forwarded",
            r#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711";by=203.0.113.43"#,
        )]);
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), &chain),
            ip("2001:db8:cafe::17")
        );
        // X-Forwarded-For is ignored when Forwarded is the configured header.
        let other = headers(&[("x-forwarded-for", "192.0.2.1")]);
        assert_eq!(proxies.client_of(ip("::1"), &other), ip("::1"));
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_networks() {
        let proxies = TrustedProxies::parse("127.0.0.1", ForwardingHeader::XForwardedFor).unwrap();
        let chain = headers(&[("x-forwarded-for", "198.51.100.4:5000")]);
        assert_eq!(
            proxies.client_of(ip("::ffff:127.0.0.1"), &chain),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        let err =
            TrustedProxies::parse("10.0.0.0/8, nope", ForwardingHeader::XForwardedFor).unwrap_err();
        assert!(err.contains("nope"), "{err}");
        assert!("via".parse::<ForwardingHeader>().is_err());
    }

    #[test]
    fn ipv6_clients_share_a_limit_per_64() {
        assert_eq!(
            rate_limit_key(ip("2001:db8:1:2:aaaa::1")),
            rate_limit_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            rate_limit_key(ip("2001:db8:1:2::1")),
            rate_limit_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(rate_limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(rate_limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }
}
