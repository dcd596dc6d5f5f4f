use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub fingerprint: String,
    pub role: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The key's workspace, read with the key when it authenticates a request.
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id"
    )]
    Tenant,
    /// Its creator's membership of the workspace, read with the key: a key never does more
    /// than its creator may do now.
    #[sea_orm(
        belongs_to = "super::memberships::Entity",
        from = "(Column::TenantId, Column::CreatedBy)",
        to = "(super::memberships::Column::TenantId, super::memberships::Column::UserId)"
    )]
    CreatorMembership,
}

impl Related<super::memberships::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CreatorMembership.def()
    }
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenant.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
