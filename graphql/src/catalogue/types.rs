//! Output types of the catalogue API.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use refhub_domain::catalogue::{self as domain, FieldType, MessengerApp, TopicRegistration};

use super::inputs::PayloadFieldInput;
use crate::auth_context::{principal, services};
use crate::connection::{ListConnection, from_page, page_request};
use crate::error::IntoGraphql;
use crate::ids::{parse_id, to_id};

/// The type of a custom field; values are checked against it.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "CustomFieldType")]
pub(crate) enum CustomFieldType {
    /// Free text (up to 2,000 characters).
    Text,
    /// A decimal number.
    Number,
    /// true/false (also yes/no, 1/0, on/off).
    Boolean,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// An instant, RFC 3339 with offset; stored in UTC.
    Datetime,
    /// An e-mail address.
    Email,
    /// A phone number (7 to 15 digits, optional leading +).
    Phone,
    /// An http(s) URL.
    Url,
}

impl From<FieldType> for CustomFieldType {
    fn from(value: FieldType) -> Self {
        match value {
            FieldType::Text => Self::Text,
            FieldType::Number => Self::Number,
            FieldType::Boolean => Self::Boolean,
            FieldType::Date => Self::Date,
            FieldType::DateTime => Self::Datetime,
            FieldType::Email => Self::Email,
            FieldType::Phone => Self::Phone,
            FieldType::Url => Self::Url,
        }
    }
}

impl From<CustomFieldType> for FieldType {
    fn from(value: CustomFieldType) -> Self {
        match value {
            CustomFieldType::Text => Self::Text,
            CustomFieldType::Number => Self::Number,
            CustomFieldType::Boolean => Self::Boolean,
            CustomFieldType::Date => Self::Date,
            CustomFieldType::Datetime => Self::DateTime,
            CustomFieldType::Email => Self::Email,
            CustomFieldType::Phone => Self::Phone,
            CustomFieldType::Url => Self::Url,
        }
    }
}

/// How often an opted-in subscriber may be notified.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum Cadence {
    /// Once a day.
    Daily,
    /// Once a week.
    Weekly,
    /// Once a month.
    Monthly,
}

impl From<domain::Cadence> for Cadence {
    fn from(value: domain::Cadence) -> Self {
        match value {
            domain::Cadence::Daily => Self::Daily,
            domain::Cadence::Weekly => Self::Weekly,
            domain::Cadence::Monthly => Self::Monthly,
        }
    }
}

impl From<Cadence> for domain::Cadence {
    fn from(value: Cadence) -> Self {
        match value {
            Cadence::Daily => Self::Daily,
            Cadence::Weekly => Self::Weekly,
            Cadence::Monthly => Self::Monthly,
        }
    }
}

/// The tenant's Meta app connection. Its secret and verify token are never returned.
pub(crate) struct MessengerAppConnection(pub MessengerApp);

/// The tenant's Meta app: what lets Meta's webhooks reach the workspace and be verified. Its
/// secret and verify token are never returned.
// Named `MessengerApp` in the schema: a type named `…Connection` is read as a Relay connection.
#[Object(name = "MessengerApp")]
impl MessengerAppConnection {
    /// Its id.
    async fn id(&self) -> ID {
        to_id(self.0.id.0)
    }

    /// Meta's app id.
    async fn app_id(&self) -> &str {
        &self.0.app_id
    }

    /// The callback URL to enter in Meta's app dashboard (Webhooks → Messenger).
    async fn webhook_url(&self, ctx: &Context<'_>) -> String {
        services(ctx).messenger_apps.webhook_url(&self.0)
    }

    /// The Data Deletion Request callback URL to enter in Meta's App Dashboard (Settings →
    /// Basic → User data deletion): Meta posts a person's request there, and their data in
    /// this workspace is erased. Changes with the webhook key.
    async fn data_deletion_url(&self, ctx: &Context<'_>) -> String {
        services(ctx).messenger_apps.data_deletion_url(&self.0)
    }

    /// The Deauthorize callback URL to enter in Meta's App Dashboard (Facebook Login →
    /// Settings): Meta posts there when a person removes the app; it is recorded.
    async fn deauthorize_url(&self, ctx: &Context<'_>) -> String {
        services(ctx).messenger_apps.deauthorize_url(&self.0)
    }

    /// When it was connected.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When its credentials or key last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A page the person behind a Facebook Login token manages, as Meta lists it. Its token is
/// never returned.
pub(crate) struct FacebookPage(pub domain::FacebookPageChoice);

/// A page the person behind a Facebook Login token manages, as Meta lists it. Its token is
/// never returned.
#[Object]
impl FacebookPage {
    /// Facebook's page id (what `connectFacebookPages` takes).
    async fn facebook_page_id(&self) -> &str {
        &self.0.page.facebook_page_id
    }

    /// The page's name.
    async fn name(&self) -> &str {
        &self.0.page.name
    }

    /// The page's m.me username, if it has one.
    async fn username(&self) -> Option<&str> {
        self.0.page.username.as_deref()
    }

    /// The page's profile picture: a Meta CDN URL that expires, for showing now, not storing.
    async fn picture_url(&self) -> Option<&str> {
        self.0.page.picture_url.as_deref()
    }

    /// The person's tasks on the page (`MANAGE`, `CREATE_CONTENT`, `MODERATE`, `MESSAGING`, ...).
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::PAGE_TASKS, child_complexity)"
    )]
    async fn tasks(&self) -> &[String] {
        &self.0.page.tasks
    }

    /// Whether the person holds the `MESSAGING` task: only then can the page be connected.
    async fn can_message(&self) -> bool {
        self.0.page.can_message()
    }

    /// Whether this workspace already has the page (connecting it again reconnects it).
    async fn already_connected(&self) -> bool {
        self.0.connected.is_some()
    }

    /// This workspace's page for it, when it has one.
    async fn page(&self) -> Option<Page> {
        self.0.connected.clone().map(Page)
    }
}

/// What `connectFacebookPages` did.
pub(crate) struct ConnectFacebookPagesPayload(pub Vec<domain::PageConnection>);

impl ConnectFacebookPagesPayload {
    /// The pages new to the workspace (`new`), or those it had.
    fn pages_where(&self, new: bool) -> Vec<Page> {
        self.0
            .iter()
            .filter(|c| matches!(c, domain::PageConnection::Connected(_)) == new)
            .map(|c| Page(c.page().clone()))
            .collect()
    }
}

/// What `connectFacebookPages` did.
#[Object]
impl ConnectFacebookPagesPayload {
    /// Every chosen page, in the order chosen.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::CONNECTED_PAGES, child_complexity)"
    )]
    async fn pages(&self) -> Vec<Page> {
        self.0.iter().map(|c| Page(c.page().clone())).collect()
    }

    /// The pages new to the workspace.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::CONNECTED_PAGES, child_complexity)"
    )]
    async fn connected(&self) -> Vec<Page> {
        self.pages_where(true)
    }

    /// The pages the workspace had, now with a fresh token.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::CONNECTED_PAGES, child_complexity)"
    )]
    async fn reconnected(&self) -> Vec<Page> {
        self.pages_where(false)
    }
}

/// Whether a page's token works.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum PageStatus {
    /// Calls with its token succeed (as far as refhub knows).
    Active,
    /// Meta refused its token (error 190: expired, revoked, password changed, app removed):
    /// reconnect it with a new token (`updatePage` with `accessToken`). Until then its
    /// outgoing messages wait, in order; none fails for it.
    NeedsReconnect,
}

/// Why a page needs reconnecting, as Meta said it.
#[derive(SimpleObject)]
pub(crate) struct PageStatusReason {
    /// Meta's error code (190).
    code: Option<i64>,
    /// Meta's `error_subcode` (458 app removed, 460 password changed, 463 expired, ...).
    subcode: Option<i64>,
    /// Meta's message.
    message: Option<String>,
}

/// A connected Facebook Page. Its access token is never returned.
pub(crate) struct Page(pub domain::Page);

impl Page {
    /// The page's set-up with Meta, read once per request for all the fields that show it.
    async fn stored_setup(&self, ctx: &Context<'_>) -> Result<Option<domain::PageSetup>> {
        crate::loaders::loaders(ctx)?
            .page_setups
            .load_one(self.0.id)
            .await
    }
}

/// A connected Facebook Page. Its access token is never returned.
#[Object]
impl Page {
    /// Its id.
    async fn id(&self) -> ID {
        to_id(self.0.id.0)
    }

    /// Facebook's page id.
    async fn facebook_page_id(&self) -> &str {
        &self.0.facebook_page_id
    }

    /// The page's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The page's m.me username, if it has one.
    async fn username(&self) -> Option<&str> {
        self.0.username.as_deref()
    }

    /// Whether its token works (token health).
    async fn status(&self) -> PageStatus {
        match self.0.health.status {
            domain::PageStatus::Active => PageStatus::Active,
            domain::PageStatus::NeedsReconnect => PageStatus::NeedsReconnect,
        }
    }

    /// Meta's reason when it `NEEDS_RECONNECT`.
    async fn status_reason(&self) -> Option<PageStatusReason> {
        let health = &self.0.health;
        health.needs_reconnect().then(|| PageStatusReason {
            code: health.code,
            subcode: health.subcode,
            message: health.message.clone(),
        })
    }

    /// When the status last changed (none: active since it was connected).
    async fn status_changed_at(&self) -> Option<DateTime<Utc>> {
        self.0.health.changed_at
    }

    /// `https://m.me/<username or page id>`.
    async fn mme_url(&self) -> String {
        format!(
            "https://m.me/{}",
            refhub_domain::catalogue::encode_query_value(self.0.handle().0)
        )
    }

    /// A URL of this page's subscribers as CSV that a browser can open without an
    /// `Authorization` header (`<a download>`): signed for the caller's session, for this page
    /// only, valid for 10 minutes. Null for an API key (send the header to
    /// `GET /api/pages/{id}/subscribers.csv` instead).
    async fn subscribers_csv_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let path = format!("/api/pages/{}/subscribers.csv", self.0.id.0);
        crate::signed_url::signed_url(ctx, &path)
    }

    /// The page's set-up with Meta (webhook subscription, Get Started, Messenger Profile):
    /// null until it is first scheduled.
    async fn setup(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::page_setup::types::PageSetup>> {
        let setup = self.stored_setup(ctx).await?;
        Ok(setup.map(Into::into))
    }

    /// The page's Messenger Profile as Meta had it at the last set-up run (read back with
    /// `GET /me/messenger_profile`, updated with what refhub set); null before the first run.
    async fn messenger_profile(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::page_setup::types::MessengerProfile>> {
        let setup = self.stored_setup(ctx).await?;
        Ok(setup.and_then(|s| s.meta_profile).map(|meta| {
            refhub_domain::catalogue::MessengerProfileSettings::from_meta(&meta).into()
        }))
    }

    /// The Messenger Profile settings refhub keeps on the page (`setPageMessengerProfile`).
    async fn messenger_profile_settings(
        &self,
        ctx: &Context<'_>,
    ) -> Result<crate::page_setup::types::MessengerProfile> {
        let setup = self.stored_setup(ctx).await?;
        Ok(crate::page_setup::types::MessengerProfile::wanted(
            setup.map(|s| s.wanted).unwrap_or_default(),
        ))
    }

    /// The page's ref links, oldest first.
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn ref_links(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<RefLink>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let links = services(ctx)
            .ref_links
            .list_for_page(principal, self.0.id, page)
            .await
            .gql()?;
        Ok(from_page(links, had_cursor, |l| l.id.0, RefLink))
    }

    /// The page's notification topics, oldest first.
    #[graphql(
        complexity = "crate::connection::list_cost(first, child_complexity)",
        deprecation = "Meta retired recurring notifications (closed to new integrations on 2025-09-01, ended on 2026-02-10 outside a few regions); kept for workspaces that hold tokens. Meta offers the Messenger Marketing Messages API instead."
    )]
    async fn notification_topics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<NotificationTopic>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let topics = services(ctx)
            .topics
            .list(principal, Some(self.0.id), page)
            .await
            .gql()?;
        Ok(from_page(topics, had_cursor, |t| t.id.0, NotificationTopic))
    }

    /// When it was connected.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A custom field: a typed slot on subscribers, filled by ref payloads and flows.
pub(crate) struct CustomField(pub domain::CustomField);

/// A custom field: a typed slot on subscribers, filled by ref payloads and flows.
#[Object]
impl CustomField {
    /// Its id.
    async fn id(&self) -> ID {
        to_id(self.0.id.0)
    }

    /// Its short number, unique in the workspace: ref payloads name fields by it
    /// (`ref--NUMBER--value`).
    async fn number(&self) -> i32 {
        self.0.number
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The type its values must fit.
    #[graphql(name = "type")]
    async fn field_type(&self) -> CustomFieldType {
        self.0.field_type.into()
    }

    /// What it is for.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// Whether it is archived (hidden from pickers, no longer filled by payloads).
    async fn archived(&self) -> bool {
        self.0.is_archived()
    }

    /// When it was archived.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A tag.
#[derive(SimpleObject)]
pub(crate) struct Tag {
    /// Its id.
    pub id: ID,
    /// Its name, unique (case-insensitively) in the workspace.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<domain::Tag> for Tag {
    fn from(tag: domain::Tag) -> Self {
        Self {
            id: to_id(tag.id.0),
            name: tag.name,
            created_at: tag.created_at,
        }
    }
}

/// An m.me link with a `ref`: who arrives through it is attributed to it, gets its tags, and
/// has payload values saved into custom fields.
pub(crate) struct RefLink(pub domain::RefLink);

/// An m.me link with a `ref`: who arrives through it is attributed to it, gets its tags, and
/// has payload values saved into custom fields.
#[Object]
impl RefLink {
    /// Its id.
    async fn id(&self) -> ID {
        to_id(self.0.id.0)
    }

    /// The page it opens a conversation with.
    async fn page(&self, ctx: &Context<'_>) -> Result<Page> {
        services(ctx)
            .ref_links
            .page_of(&self.0)
            .await
            .map(Page)
            .gql()
    }

    /// The `ref` parameter (unique per page).
    #[graphql(name = "ref")]
    async fn ref_name(&self) -> &str {
        self.0.ref_name.as_str()
    }

    /// The message prefilled in the composer.
    async fn text(&self) -> Option<&str> {
        self.0.text.as_deref()
    }

    /// The field the first payload value fills.
    async fn default_field(&self, ctx: &Context<'_>) -> Result<Option<CustomField>> {
        let Some(field_id) = self.0.default_field_id else {
            return Ok(None);
        };
        let principal = principal(ctx).gql()?;
        services(ctx)
            .custom_fields
            .get(principal, field_id)
            .await
            .map(|field| Some(CustomField(field)))
            .gql()
    }

    /// Tags added to everyone who arrives through it.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::LINK_TAGS, child_complexity)"
    )]
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<Tag>> {
        let principal = principal(ctx).gql()?;
        services(ctx)
            .tags
            .get_many(principal, &self.0.tag_ids)
            .await
            .map(|tags| tags.into_iter().map(Tag::from).collect())
            .gql()
    }

    /// Whether arrivals through it are acted on.
    async fn active(&self) -> bool {
        self.0.active
    }

    /// Its short URL (`PUBLIC_BASE_URL/r/{code}`): redirects to the m.me URL and counts the
    /// click (robots and link previews apart).
    async fn short_url(&self, ctx: &Context<'_>) -> String {
        refhub_domain::analytics::short_url(&services(ctx).public_base_url, &self.0.short_code)
    }

    /// The code of its short URL.
    async fn short_code(&self) -> &str {
        &self.0.short_code
    }

    /// The flow started for everyone who arrives through it.
    async fn flow(&self, ctx: &Context<'_>) -> Result<Option<crate::flows::types::Flow>> {
        let Some(flow_id) = self.0.flow_id else {
            return Ok(None);
        };
        Ok(crate::loaders::loaders(ctx)?
            .flows
            .load_one(flow_id)
            .await?
            .map(crate::flows::types::Flow))
    }

    /// `https://m.me/<page>?ref=<ref>[&text=<text>]`, percent-encoded.
    async fn url(&self, ctx: &Context<'_>) -> Result<String> {
        services(ctx).ref_links.url(&self.0).await.gql()
    }

    /// A QR code of `url`, as an SVG document. A link too long for a QR code (saved before
    /// links were checked for one) answers `VALIDATION` naming `text` or `ref`.
    async fn qr_code_svg(&self, ctx: &Context<'_>) -> Result<String> {
        let url = services(ctx).ref_links.qr_code_url(&self.0).await.gql()?;
        services(ctx).qr_codes.svg(&url).gql()
    }

    /// A URL of this link's QR code as a PNG that a browser can open without an
    /// `Authorization` header (`<img src>`, `<a download>`): signed for the caller's session,
    /// for this link only, valid for 10 minutes. Null for an API key (send the header to
    /// `GET /api/ref-links/{id}/qr.png` instead).
    async fn qr_code_png_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let path = format!("/api/ref-links/{}/qr.png", self.0.id.0);
        crate::signed_url::signed_url(ctx, &path)
    }

    /// A QR code of `url`, as a PNG `data:` URI (also at `GET /api/ref-links/{id}/qr.png`);
    /// refused like `qrCodeSvg`.
    async fn qr_code_png_data_uri(&self, ctx: &Context<'_>) -> Result<String> {
        let url = services(ctx).ref_links.qr_code_url(&self.0).await.gql()?;
        let png = services(ctx).qr_codes.png(&url).gql()?;
        Ok(format!("data:image/png;base64,{}", STANDARD.encode(png)))
    }

    /// A URL that also fills custom fields when followed: `defaultValue` goes to the link's
    /// default field, each of `fields` to its field (by number, in the ref). Values are checked
    /// against their field's type and must use only letters, digits, `-`, `_` and `=`.
    async fn payload_url(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The value for the link's default field.")] default_value: Option<String>,
        #[graphql(default, desc = "Values for other fields, by their number.")] fields: Vec<
            PayloadFieldInput,
        >,
    ) -> Result<String> {
        let principal = principal(ctx).gql()?;
        let mut values = Vec::with_capacity(fields.len());
        for (index, field) in fields.into_iter().enumerate() {
            values.push(refhub_domain::catalogue::PayloadFieldValue {
                field_id: parse_id(&field.field_id, &format!("fields[{index}].fieldId")).gql()?,
                value: field.value,
            });
        }
        services(ctx)
            .ref_links
            .payload_url(principal, &self.0, default_value.as_deref(), &values)
            .await
            .gql()
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Where a topic stands with Meta.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum TopicRegistrationStatus {
    /// Not registered yet: its `m.me/rn` link redirects to the page's base opt-in URL.
    Unregistered,
    /// Registered: its link works.
    Registered,
    /// The last registration attempt failed; see `error`.
    Failed,
}

/// The outcome of the last registration attempt.
#[derive(SimpleObject)]
pub(crate) struct TopicRegistrationState {
    /// Where the topic stands.
    pub status: TopicRegistrationStatus,
    /// When the last attempt was made.
    pub attempted_at: Option<DateTime<Utc>>,
    /// Meta's message id for a successful registration.
    pub message_id: Option<String>,
    /// What Meta said when it refused.
    pub error: Option<String>,
}

/// A recurring-notification topic on a page.
pub(crate) struct NotificationTopic(pub domain::NotificationTopic);

/// A recurring-notification topic on a page.
#[Object]
impl NotificationTopic {
    /// Its id.
    async fn id(&self) -> ID {
        to_id(self.0.id.0)
    }

    /// The page.
    async fn page(&self, ctx: &Context<'_>) -> Result<Page> {
        services(ctx).topics.page_of(&self.0).await.map(Page).gql()
    }

    /// The title people opt in to.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The cadence `rnUrl` offers by default.
    async fn default_cadence(&self) -> Cadence {
        self.0.default_cadence.into()
    }

    /// The opt-in link `https://m.me/rn/<page>?topic=<title>&cadence=<cadence>`.
    async fn rn_url(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Defaults to the topic's cadence.")] cadence: Option<Cadence>,
    ) -> Result<String> {
        let page = services(ctx).topics.page_of(&self.0).await.gql()?;
        Ok(self.0.rn_url(page.handle(), cadence.map(Into::into)))
    }

    /// Where it stands with Meta.
    async fn registration(&self) -> TopicRegistrationState {
        match &self.0.registration {
            TopicRegistration::Unregistered => TopicRegistrationState {
                status: TopicRegistrationStatus::Unregistered,
                attempted_at: None,
                message_id: None,
                error: None,
            },
            TopicRegistration::Registered { at, message_id } => TopicRegistrationState {
                status: TopicRegistrationStatus::Registered,
                attempted_at: Some(*at),
                message_id: Some(message_id.clone()),
                error: None,
            },
            TopicRegistration::Failed { at, error } => TopicRegistrationState {
                status: TopicRegistrationStatus::Failed,
                attempted_at: Some(*at),
                message_id: None,
                error: Some(error.clone()),
            },
        }
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
