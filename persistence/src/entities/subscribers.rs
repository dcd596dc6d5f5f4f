use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "subscribers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub page_id: Uuid,
    pub sender_key: String,
    pub psid: Option<String>,
    pub user_ref: Option<String>,
    pub name: Option<String>,
    pub first_seen_at: DateTimeUtc,
    pub last_interaction_at: Option<DateTimeUtc>,
    pub source_ref: Option<String>,
    pub source_ref_link_id: Option<Uuid>,
    pub source_ref_at: Option<DateTimeUtc>,
    pub entry_count: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub profile_pic_url: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<f64>,
    pub profile_status: String,
    pub profile_attempts: i32,
    pub profile_due_at: Option<DateTimeUtc>,
    pub profile_fetched_at: Option<DateTimeUtc>,
    pub profile_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
