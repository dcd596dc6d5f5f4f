use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "page_setups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub page_id: Uuid,
    pub generation: i64,
    pub subscribed_state: String,
    pub subscribed_fields: String,
    pub get_started_state: String,
    pub profile_state: String,
    pub replace_get_started: bool,
    pub own_get_started: Option<String>,
    pub wanted_profile: Option<String>,
    pub meta_profile: Option<String>,
    pub last_error_code: Option<i64>,
    pub last_error_subcode: Option<i64>,
    pub last_error_message: Option<String>,
    pub checked_at: Option<DateTimeUtc>,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
