use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_opt_ins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub subscriber_id: Uuid,
    pub topic_id: Option<Uuid>,
    pub topic_title: String,
    pub token: Vec<u8>,
    pub token_fingerprint: String,
    pub frequency: Option<String>,
    pub timezone: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub status: String,
    pub status_changed_at: DateTimeUtc,
    pub last_sent_at: Option<DateTimeUtc>,
    pub last_notified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
