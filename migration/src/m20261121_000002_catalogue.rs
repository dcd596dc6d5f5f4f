//! The Messenger catalogue: app connection, pages, custom fields, tags, ref links, topics.
//! Every table is tenant-owned: `tenant_id` leads its primary key and every foreign key.

use sea_orm_migration::prelude::*;

use crate::schema_helpers::{
    at, at_null, belongs_to_tenant, tenant_fk, text, text_null, unique_index, uuid,
};
use crate::tenant_isolation::{grant_app_role, isolate_tenant_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MessengerApps {
    Table,
    TenantId,
    Id,
    AppId,
    AppSecret,
    VerifyToken,
    WebhookKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Pages {
    Table,
    TenantId,
    Id,
    FacebookPageId,
    Name,
    Username,
    AccessToken,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CustomFields {
    Table,
    TenantId,
    Id,
    Number,
    Name,
    NameKey,
    FieldType,
    Description,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    TenantId,
    Id,
    Name,
    NameKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefLinks {
    Table,
    TenantId,
    Id,
    PageId,
    RefName,
    Text,
    DefaultFieldId,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefLinkTags {
    Table,
    TenantId,
    RefLinkId,
    TagId,
}

#[derive(DeriveIden)]
enum NotificationTopics {
    Table,
    TenantId,
    Id,
    PageId,
    Title,
    TitleKey,
    DefaultCadence,
    RegistrationStatus,
    RegisteredAt,
    RegistrationMessageId,
    RegistrationError,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(MessengerApps::Table),
                    MessengerApps::Table,
                    MessengerApps::TenantId,
                )
                .col(uuid(MessengerApps::TenantId))
                .col(uuid(MessengerApps::Id))
                .col(text(MessengerApps::AppId))
                .col(ColumnDef::new(MessengerApps::AppSecret).binary().not_null())
                .col(
                    ColumnDef::new(MessengerApps::VerifyToken)
                        .binary()
                        .not_null(),
                )
                .col(text(MessengerApps::WebhookKey).unique_key())
                .col(at(MessengerApps::CreatedAt))
                .col(at(MessengerApps::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(MessengerApps::TenantId)
                        .col(MessengerApps::Id),
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "messenger_apps_one_per_tenant",
                MessengerApps::Table,
                vec![MessengerApps::TenantId.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(Pages::Table),
                    Pages::Table,
                    Pages::TenantId,
                )
                .col(uuid(Pages::TenantId))
                .col(uuid(Pages::Id))
                .col(text(Pages::FacebookPageId))
                .col(text(Pages::Name))
                .col(text_null(Pages::Username))
                .col(ColumnDef::new(Pages::AccessToken).binary().not_null())
                .col(at(Pages::CreatedAt))
                .col(at(Pages::UpdatedAt))
                .primary_key(Index::create().col(Pages::TenantId).col(Pages::Id))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "pages_tenant_facebook_page_key",
                Pages::Table,
                vec![
                    Pages::TenantId.into_iden(),
                    Pages::FacebookPageId.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(CustomFields::Table),
                    CustomFields::Table,
                    CustomFields::TenantId,
                )
                .col(uuid(CustomFields::TenantId))
                .col(uuid(CustomFields::Id))
                .col(ColumnDef::new(CustomFields::Number).integer().not_null())
                .col(text(CustomFields::Name))
                .col(text(CustomFields::NameKey))
                .col(text(CustomFields::FieldType))
                .col(text_null(CustomFields::Description))
                .col(at_null(CustomFields::ArchivedAt))
                .col(at(CustomFields::CreatedAt))
                .col(at(CustomFields::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(CustomFields::TenantId)
                        .col(CustomFields::Id),
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "custom_fields_tenant_number_key",
                CustomFields::Table,
                vec![
                    CustomFields::TenantId.into_iden(),
                    CustomFields::Number.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(unique_index(
                "custom_fields_tenant_name_key",
                CustomFields::Table,
                vec![
                    CustomFields::TenantId.into_iden(),
                    CustomFields::NameKey.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(Tags::Table),
                    Tags::Table,
                    Tags::TenantId,
                )
                .col(uuid(Tags::TenantId))
                .col(uuid(Tags::Id))
                .col(text(Tags::Name))
                .col(text(Tags::NameKey))
                .col(at(Tags::CreatedAt))
                .primary_key(Index::create().col(Tags::TenantId).col(Tags::Id))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "tags_tenant_name_key",
                Tags::Table,
                vec![Tags::TenantId.into_iden(), Tags::NameKey.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(RefLinks::Table),
                    RefLinks::Table,
                    RefLinks::TenantId,
                )
                .col(uuid(RefLinks::TenantId))
                .col(uuid(RefLinks::Id))
                .col(uuid(RefLinks::PageId))
                .col(text(RefLinks::RefName))
                .col(text_null(RefLinks::Text))
                .col(ColumnDef::new(RefLinks::DefaultFieldId).uuid().null())
                .col(ColumnDef::new(RefLinks::Active).boolean().not_null())
                .col(at(RefLinks::CreatedAt))
                .col(at(RefLinks::UpdatedAt))
                .primary_key(Index::create().col(RefLinks::TenantId).col(RefLinks::Id))
                .foreign_key(&mut tenant_fk(
                    RefLinks::Table,
                    RefLinks::TenantId,
                    RefLinks::PageId,
                    Pages::Table,
                    ForeignKeyAction::Cascade,
                ))
                // Deleting a field clears it from links in the same transaction first.
                .foreign_key(&mut tenant_fk(
                    RefLinks::Table,
                    RefLinks::TenantId,
                    RefLinks::DefaultFieldId,
                    CustomFields::Table,
                    ForeignKeyAction::NoAction,
                ))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "ref_links_page_ref_key",
                RefLinks::Table,
                vec![
                    RefLinks::TenantId.into_iden(),
                    RefLinks::PageId.into_iden(),
                    RefLinks::RefName.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(RefLinkTags::Table),
                    RefLinkTags::Table,
                    RefLinkTags::TenantId,
                )
                .col(uuid(RefLinkTags::TenantId))
                .col(uuid(RefLinkTags::RefLinkId))
                .col(uuid(RefLinkTags::TagId))
                .primary_key(
                    Index::create()
                        .col(RefLinkTags::TenantId)
                        .col(RefLinkTags::RefLinkId)
                        .col(RefLinkTags::TagId),
                )
                .foreign_key(&mut tenant_fk(
                    RefLinkTags::Table,
                    RefLinkTags::TenantId,
                    RefLinkTags::RefLinkId,
                    RefLinks::Table,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut tenant_fk(
                    RefLinkTags::Table,
                    RefLinkTags::TenantId,
                    RefLinkTags::TagId,
                    Tags::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                belongs_to_tenant(
                    Table::create().table(NotificationTopics::Table),
                    NotificationTopics::Table,
                    NotificationTopics::TenantId,
                )
                .col(uuid(NotificationTopics::TenantId))
                .col(uuid(NotificationTopics::Id))
                .col(uuid(NotificationTopics::PageId))
                .col(text(NotificationTopics::Title))
                .col(text(NotificationTopics::TitleKey))
                .col(text(NotificationTopics::DefaultCadence))
                .col(text(NotificationTopics::RegistrationStatus))
                .col(at_null(NotificationTopics::RegisteredAt))
                .col(text_null(NotificationTopics::RegistrationMessageId))
                .col(text_null(NotificationTopics::RegistrationError))
                .col(at(NotificationTopics::CreatedAt))
                .col(at(NotificationTopics::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(NotificationTopics::TenantId)
                        .col(NotificationTopics::Id),
                )
                .foreign_key(&mut tenant_fk(
                    NotificationTopics::Table,
                    NotificationTopics::TenantId,
                    NotificationTopics::PageId,
                    Pages::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "notification_topics_page_title_key",
                NotificationTopics::Table,
                vec![
                    NotificationTopics::TenantId.into_iden(),
                    NotificationTopics::PageId.into_iden(),
                    NotificationTopics::TitleKey.into_iden(),
                ],
            ))
            .await?;

        for table in [
            "messenger_apps",
            "pages",
            "custom_fields",
            "tags",
            "ref_links",
            "ref_link_tags",
            "notification_topics",
        ] {
            isolate_tenant_table(manager, table).await?;
        }
        grant_app_role(manager).await
    }
}
