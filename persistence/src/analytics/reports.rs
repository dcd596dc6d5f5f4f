use async_trait::async_trait;
use chrono::{DateTime, Utc};
use refhub_domain::DomainResult;
use refhub_domain::analytics::{
    AnalyticsRepository, EntryRecord, FlowActivity, FunnelScope, TopicActivity,
};
use refhub_domain::flows::{OutboxStatus, RunStatus};
use refhub_domain::ids::{FlowId, TenantId, TopicId};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, Query};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::Store;
use crate::entities::{
    flow_runs, link_clicks, notification_opt_ins, notification_topics, outbound_messages,
    subscriber_interactions, subscribers,
};
use crate::error::internal;
use crate::scope;

#[async_trait]
impl AnalyticsRepository for Store {
    async fn clicks(
        &self,
        tenant_id: TenantId,
        scope: FunnelScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<Vec<(DateTime<Utc>, bool)>> {
        let mut query = link_clicks::Entity::find()
            .select_only()
            .column(link_clicks::Column::ClickedAt)
            .column(link_clicks::Column::Automated)
            .filter(link_clicks::Column::TenantId.eq(tenant_id.0))
            .filter(link_clicks::Column::ClickedAt.gte(from))
            .filter(link_clicks::Column::ClickedAt.lt(to));
        query = match scope {
            FunnelScope::RefLink(id) => query.filter(link_clicks::Column::RefLinkId.eq(id.0)),
            FunnelScope::Page(id) => query.filter(link_clicks::Column::PageId.eq(id.0)),
        };
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let rows = query
            .into_tuple::<(DateTime<Utc>, bool)>()
            .all(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(rows)
    }

    async fn entries(
        &self,
        tenant_id: TenantId,
        scope: FunnelScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<Vec<EntryRecord>> {
        let mut query = subscriber_interactions::Entity::find()
            .select_only()
            .column(subscriber_interactions::Column::OccurredAt)
            .column(subscriber_interactions::Column::SubscriberId)
            .column(subscriber_interactions::Column::NewSubscriber)
            .filter(subscriber_interactions::Column::TenantId.eq(tenant_id.0))
            .filter(subscriber_interactions::Column::RefLinkId.is_not_null())
            .filter(subscriber_interactions::Column::OccurredAt.gte(from))
            .filter(subscriber_interactions::Column::OccurredAt.lt(to));
        query = match scope {
            FunnelScope::RefLink(id) => {
                query.filter(subscriber_interactions::Column::RefLinkId.eq(id.0))
            }
            FunnelScope::Page(id) => query.filter(
                subscriber_interactions::Column::SubscriberId.in_subquery(
                    Query::select()
                        .column(subscribers::Column::Id)
                        .from(subscribers::Entity)
                        .and_where(subscribers::Column::TenantId.eq(tenant_id.0))
                        .and_where(subscribers::Column::PageId.eq(id.0))
                        .to_owned(),
                ),
            ),
        };
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let rows = query
            .into_tuple::<(DateTime<Utc>, Uuid, bool)>()
            .all(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|(at, subscriber_id, new_subscriber)| EntryRecord {
                at,
                subscriber_id: subscriber_id.into(),
                new_subscriber,
            })
            .collect())
    }

    async fn topic_activity(
        &self,
        tenant_id: TenantId,
        topic_id: TopicId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<Vec<(DateTime<Utc>, TopicActivity)>> {
        // Opt-ins and opt-outs are on the timeline with their token's fingerprint. A topic's
        // tokens are those of the opt-ins carrying its title on its page (a renewal brings a
        // new token, and the stored opt-in keeps only the latest) and of its stored opt-ins.
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let Some(topic) = notification_topics::Entity::find()
            .filter(notification_topics::Column::TenantId.eq(tenant_id.0))
            .filter(notification_topics::Column::Id.eq(topic_id.0))
            .one(&txn)
            .await
            .map_err(internal)?
        else {
            txn.commit().await.map_err(internal)?;
            return Ok(Vec::new());
        };
        let tokens_by_title = Query::select()
            .column(subscriber_interactions::Column::TokenFingerprint)
            .from(subscriber_interactions::Entity)
            .and_where(subscriber_interactions::Column::TenantId.eq(tenant_id.0))
            .and_where(subscriber_interactions::Column::Kind.eq("optin"))
            .and_where(
                Expr::expr(Func::lower(Expr::col(
                    subscriber_interactions::Column::Detail,
                )))
                .eq(topic.title.to_lowercase()),
            )
            .and_where(
                subscriber_interactions::Column::SubscriberId.in_subquery(
                    Query::select()
                        .column(subscribers::Column::Id)
                        .from(subscribers::Entity)
                        .and_where(subscribers::Column::TenantId.eq(tenant_id.0))
                        .and_where(subscribers::Column::PageId.eq(topic.page_id))
                        .to_owned(),
                ),
            )
            .to_owned();
        let query = subscriber_interactions::Entity::find()
            .select_only()
            .column(subscriber_interactions::Column::OccurredAt)
            .column(subscriber_interactions::Column::Kind)
            .filter(subscriber_interactions::Column::TenantId.eq(tenant_id.0))
            .filter(subscriber_interactions::Column::Kind.is_in(["optin", "optout"]))
            .filter(subscriber_interactions::Column::OccurredAt.gte(from))
            .filter(subscriber_interactions::Column::OccurredAt.lt(to))
            .filter(
                Condition::any()
                    .add(
                        subscriber_interactions::Column::TokenFingerprint
                            .in_subquery(tokens_by_title),
                    )
                    .add(
                        subscriber_interactions::Column::TokenFingerprint.in_subquery(
                            Query::select()
                                .column(notification_opt_ins::Column::TokenFingerprint)
                                .from(notification_opt_ins::Entity)
                                .and_where(notification_opt_ins::Column::TenantId.eq(tenant_id.0))
                                .and_where(notification_opt_ins::Column::TopicId.eq(topic_id.0))
                                .to_owned(),
                        ),
                    ),
            );
        let rows = query
            .into_tuple::<(DateTime<Utc>, String)>()
            .all(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|(at, kind)| {
                let what = if kind == "optout" {
                    TopicActivity::OptOut
                } else {
                    TopicActivity::OptIn
                };
                (at, what)
            })
            .collect())
    }

    async fn active_tokens(
        &self,
        tenant_id: TenantId,
        topic_id: TopicId,
        now: DateTime<Utc>,
    ) -> DomainResult<u64> {
        let query = notification_opt_ins::Entity::find()
            .filter(notification_opt_ins::Column::TenantId.eq(tenant_id.0))
            .filter(notification_opt_ins::Column::TopicId.eq(topic_id.0))
            .filter(notification_opt_ins::Column::Status.eq("active"))
            .filter(
                Condition::any()
                    .add(notification_opt_ins::Column::ExpiresAt.is_null())
                    .add(notification_opt_ins::Column::ExpiresAt.gt(now)),
            );
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let count = query.count(&txn).await.map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(count)
    }

    async fn flow_activity(
        &self,
        tenant_id: TenantId,
        flow_id: FlowId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<Vec<(DateTime<Utc>, FlowActivity)>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let in_range =
            |column: flow_runs::Column| Condition::all().add(column.gte(from)).add(column.lt(to));
        let runs = flow_runs::Entity::find()
            .select_only()
            .column(flow_runs::Column::StartedAt)
            .column(flow_runs::Column::FinishedAt)
            .column(flow_runs::Column::Status)
            .filter(flow_runs::Column::TenantId.eq(tenant_id.0))
            .filter(flow_runs::Column::FlowId.eq(flow_id.0))
            .filter(
                Condition::any()
                    .add(in_range(flow_runs::Column::StartedAt))
                    .add(in_range(flow_runs::Column::FinishedAt)),
            )
            .into_tuple::<(DateTime<Utc>, Option<DateTime<Utc>>, String)>()
            .all(&txn)
            .await
            .map_err(internal)?;
        let messages = outbound_messages::Entity::find()
            .select_only()
            .column(outbound_messages::Column::Status)
            .column(outbound_messages::Column::SentAt)
            .column(outbound_messages::Column::UpdatedAt)
            .filter(outbound_messages::Column::TenantId.eq(tenant_id.0))
            .filter(
                outbound_messages::Column::RunId.in_subquery(
                    Query::select()
                        .column(flow_runs::Column::Id)
                        .from(flow_runs::Entity)
                        .and_where(flow_runs::Column::TenantId.eq(tenant_id.0))
                        .and_where(flow_runs::Column::FlowId.eq(flow_id.0))
                        .to_owned(),
                ),
            )
            .filter(outbound_messages::Column::Status.is_in([
                OutboxStatus::Sent.as_str(),
                OutboxStatus::Failed.as_str(),
                OutboxStatus::OutsideWindow.as_str(),
            ]))
            .filter(outbound_messages::Column::UpdatedAt.gte(from))
            .into_tuple::<(String, Option<DateTime<Utc>>, DateTime<Utc>)>()
            .all(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;

        let within = |at: DateTime<Utc>| at >= from && at < to;
        let mut activity = Vec::with_capacity(runs.len() * 2 + messages.len());
        for (started_at, finished_at, status) in runs {
            if within(started_at) {
                activity.push((started_at, FlowActivity::RunStarted));
            }
            let ended = match RunStatus::parse(&status) {
                Some(RunStatus::Completed) => Some(FlowActivity::RunCompleted),
                Some(RunStatus::Failed) => Some(FlowActivity::RunFailed),
                _ => None,
            };
            if let (Some(what), Some(at)) = (ended, finished_at.filter(|at| within(*at))) {
                activity.push((at, what));
            }
        }
        for (status, sent_at, updated_at) in messages {
            match (OutboxStatus::parse(&status), sent_at) {
                (Some(OutboxStatus::Sent), Some(at)) if within(at) => {
                    activity.push((at, FlowActivity::MessageSent));
                }
                (Some(OutboxStatus::Failed | OutboxStatus::OutsideWindow), _)
                    if within(updated_at) =>
                {
                    activity.push((updated_at, FlowActivity::MessageFailed));
                }
                _ => {}
            }
        }
        Ok(activity)
    }
}
