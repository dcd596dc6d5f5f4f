//! One subscriber per plugin `user_ref` on a page.
//!
//! A person who ticks the checkbox plugin is known by its `user_ref` until they reply, when
//! Messenger names their PSID and the `user_ref` together (`prior_message`). The subscriber
//! then keeps the `user_ref` beside the PSID, so that an event still naming the `user_ref`
//! (processed late, or replayed) reaches the same person. This index answers that lookup and
//! guarantees the `user_ref` is one person's: two workers linking it at once cannot both win.
//! Every `user_ref` stored so far was already unique on its page (it was the sender key).

use sea_orm_migration::prelude::*;

use crate::schema_helpers::unique_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Subscribers {
    Table,
    TenantId,
    PageId,
    UserRef,
}

const INDEX: &str = "subscribers_page_user_ref";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(unique_index(
                INDEX,
                Subscribers::Table,
                vec![
                    Subscribers::TenantId.into_iden(),
                    Subscribers::PageId.into_iden(),
                    Subscribers::UserRef.into_iden(),
                ],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(Subscribers::Table)
                    .to_owned(),
            )
            .await
    }
}
