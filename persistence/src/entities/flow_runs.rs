use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "flow_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub flow_id: Uuid,
    pub subscriber_id: Uuid,
    pub page_id: Uuid,
    pub trigger_kind: String,
    pub trigger_detail: Option<String>,
    pub start_key: String,
    pub steps: Json,
    pub status: String,
    pub current_step: i32,
    pub next_step_at: Option<DateTimeUtc>,
    pub error: Option<String>,
    pub history: Json,
    pub attempts: i32,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
