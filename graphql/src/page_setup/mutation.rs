//! Mutations of page set-up and Messenger Profile settings.

use async_graphql::{Context, Object, Result};
use refhub_domain::ids::PageId;

use super::inputs::{RefreshPageSetupInput, SetPageMessengerProfileInput};
use crate::auth_context::{principal, services};
use crate::catalogue::types::Page;
use crate::error::IntoGraphql;
use crate::ids::parse_id;

/// Mutations of page set-up.
#[derive(Default)]
pub(crate) struct PageSetupMutation;

#[Object]
impl PageSetupMutation {
    /// Runs a page's set-up with Meta again, in the background (editors): subscribes the app
    /// to the page's webhooks, sets the Get Started button (replacing one refhub did not set
    /// only with `replaceGetStarted`) and pushes the Messenger Profile settings. Watch
    /// `Page.setup`.
    async fn refresh_page_setup(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `RefreshPageSetupInput`.")] input: RefreshPageSetupInput,
    ) -> Result<Page> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<PageId>(&input.id, "id").gql()?;
        services(ctx)
            .page_setup
            .refresh(principal, id, input.replace_get_started)
            .await
            .map(Page)
            .gql()
    }

    /// Stores a page's Messenger Profile settings (greeting, ice breakers, persistent menu,
    /// Get Started payload) and pushes them to Meta in the background, in one call (Meta
    /// allows 10 per 10 minutes per page). Watch `Page.setup.profile` and
    /// `Page.messengerProfile` (what Meta has).
    async fn set_page_messenger_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `SetPageMessengerProfileInput`.")]
        input: SetPageMessengerProfileInput,
    ) -> Result<Page> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<PageId>(&input.page_id, "pageId").gql()?;
        services(ctx)
            .page_setup
            .set_profile(principal, id, input.settings(), input.replace_get_started)
            .await
            .map(Page)
            .gql()
    }
}
