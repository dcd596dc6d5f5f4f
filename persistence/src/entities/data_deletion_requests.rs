use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_deletion_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub confirmation_code: String,
    pub user_fingerprint: String,
    pub app_scoped_user_id: Option<String>,
    pub status: String,
    pub subscribers_erased: i64,
    pub events_redacted: i64,
    pub attempts: i32,
    pub due_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub requested_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
