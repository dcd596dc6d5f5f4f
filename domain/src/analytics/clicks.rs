//! Clicks on short links, and telling people from the robots and prefetchers that follow
//! links without anyone choosing to (link previews, crawlers, browsers warming their cache).

use chrono::{DateTime, Utc};

use crate::ids::{PageId, RefLinkId, TenantId};

/// One hit on a short link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Click {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The link.
    pub ref_link_id: RefLinkId,
    /// The link's page.
    pub page_id: PageId,
    /// When.
    pub at: DateTime<Utc>,
    /// Whether a robot or prefetcher made it (counted apart).
    pub automated: bool,
}

/// What a request says about who sent it.
#[derive(Debug, Clone, Default)]
pub struct Requester<'a> {
    /// `User-Agent`.
    pub user_agent: Option<&'a str>,
    /// `Purpose`, `Sec-Purpose`, `X-Purpose` or `X-Moz` (prefetch and preview hints).
    pub purpose: Option<&'a str>,
    /// Whether it asked for the headers only (`HEAD`): link checkers do, browsers never.
    pub headers_only: bool,
}

/// Substrings of user agents that belong to robots, link previewers and tools.
const AUTOMATED_AGENTS: [&str; 24] = [
    "bot",
    "crawler",
    "spider",
    "slurp",
    "facebookexternalhit",
    "facebookcatalog",
    "meta-externalagent",
    "whatsapp",
    "telegram",
    "skypeuripreview",
    "discord",
    "embedly",
    "quora link preview",
    "vkshare",
    "preview",
    "headless",
    "lighthouse",
    "curl/",
    "wget/",
    "python-requests",
    "go-http-client",
    "okhttp",
    "java/",
    "httpclient",
];

impl Requester<'_> {
    /// Whether the request is a robot's or a prefetch rather than a person's click.
    pub fn is_automated(&self) -> bool {
        if self.headers_only {
            return true;
        }
        if self.purpose.is_some_and(|p| {
            p.to_ascii_lowercase().contains("prefetch") || p.eq_ignore_ascii_case("preview")
        }) {
            return true;
        }
        match self.user_agent.map(str::trim) {
            None | Some("") => true,
            Some(agent) => {
                let agent = agent.to_ascii_lowercase();
                AUTOMATED_AGENTS.iter().any(|marker| agent.contains(marker))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(user_agent: &str) -> Requester<'_> {
        Requester {
            user_agent: Some(user_agent),
            ..Requester::default()
        }
    }

    #[test]
    fn people_are_told_from_robots_and_prefetchers() {
        let phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
        assert!(!agent(phone).is_automated());
        assert!(!agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36").is_automated());
        assert!(
            agent("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")
                .is_automated()
        );
        assert!(
            agent("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
                .is_automated()
        );
        assert!(agent("WhatsApp/2.23.20.0").is_automated());
        assert!(agent("curl/8.5.0").is_automated());
        assert!(Requester::default().is_automated());
        let prefetch = Requester {
            user_agent: Some(phone),
            purpose: Some("prefetch;prerender"),
            ..Requester::default()
        };
        assert!(prefetch.is_automated());
        let checker = Requester {
            user_agent: Some(phone),
            headers_only: true,
            ..Requester::default()
        };
        assert!(checker.is_automated(), "a HEAD is a link checker's");
    }
}
