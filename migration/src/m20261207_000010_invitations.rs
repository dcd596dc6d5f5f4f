//! Invitations: people join a workspace by accepting one, never by being added.
//!
//! An invitation belongs to its workspace (row-level security as for every tenant-owned table),
//! but its invitee acts outside that workspace: they find it by the token in their e-mail, or
//! list those sent to their address. Two read-only policies open exactly those rows, keyed on
//! transaction-local settings the adapter sets for that one read: `app.invitation_token` (the
//! token's fingerprint) and `app.invitee_email`. Answering one then acts in its workspace.

use sea_orm_migration::prelude::*;

use crate::schema_helpers::{at, at_null, belongs_to_tenant, index, text, uuid};
use crate::tenant_isolation::{grant_app_role, isolate_tenant_table, postgres_only};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Invitations {
    Table,
    TenantId,
    Id,
    Email,
    Role,
    TokenFingerprint,
    InvitedBy,
    State,
    CreatedAt,
    ExpiresAt,
    RespondedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(belongs_to_tenant(
                Table::create()
                    .table(Invitations::Table)
                    .col(uuid(Invitations::TenantId))
                    .col(uuid(Invitations::Id))
                    .col(text(Invitations::Email))
                    .col(text(Invitations::Role))
                    .col(text(Invitations::TokenFingerprint).unique_key())
                    .col(ColumnDef::new(Invitations::InvitedBy).uuid().null())
                    .col(text(Invitations::State))
                    .col(at(Invitations::CreatedAt))
                    .col(at(Invitations::ExpiresAt))
                    .col(at_null(Invitations::RespondedAt))
                    .primary_key(
                        Index::create()
                            .col(Invitations::TenantId)
                            .col(Invitations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::InvitedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    ),
                Invitations::Table,
                Invitations::TenantId,
            ))
            .await?;
        // One pending invitation per address and workspace: re-inviting refreshes it, and two
        // concurrent invitations cannot both insert. Answered ones stay as history.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX invitations_pending_email
                   ON invitations (tenant_id, email) WHERE state = 'pending'",
            )
            .await?;
        manager
            .create_index(index(
                "invitations_email",
                Invitations::Table,
                vec![Invitations::Email.into_iden()],
            ))
            .await?;

        isolate_tenant_table(manager, "invitations").await?;
        postgres_only(
            manager,
            "CREATE POLICY invitee_by_token ON invitations FOR SELECT
               USING (token_fingerprint = NULLIF(current_setting('app.invitation_token', true), ''));
             CREATE POLICY invitee_by_email ON invitations FOR SELECT
               USING (email = NULLIF(current_setting('app.invitee_email', true), ''));",
        )
        .await?;
        grant_app_role(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Invitations::Table).to_owned())
            .await
    }
}
