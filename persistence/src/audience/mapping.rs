//! Audience rows to domain values.

use refhub_domain::DomainResult;
use refhub_domain::audience::{
    FieldValueRecord, OptIn, ProfileStatus, Subscriber, SubscriberProfile,
};
use refhub_domain::catalogue::SealedSecret;
use refhub_domain::webhooks::Sender;

use crate::entities::{notification_opt_ins, subscriber_field_values, subscribers};
use crate::error::corrupt;

pub(crate) fn subscriber(row: subscribers::Model) -> DomainResult<Subscriber> {
    let sender =
        Sender::from_key(&row.sender_key).ok_or_else(|| corrupt("sender", &row.sender_key))?;
    Ok(Subscriber {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        page_id: row.page_id.into(),
        sender,
        user_ref: row.user_ref,
        name: row.name,
        first_seen_at: row.first_seen_at,
        last_interaction_at: row.last_interaction_at,
        source_ref: row.source_ref,
        source_ref_link_id: row.source_ref_link_id.map(Into::into),
        entry_count: row.entry_count,
        profile: SubscriberProfile {
            first_name: row.first_name,
            last_name: row.last_name,
            profile_pic_url: row.profile_pic_url,
            locale: row.locale,
            time_zone: row.time_zone,
            status: ProfileStatus::parse(&row.profile_status),
            fetched_at: row.profile_fetched_at,
            error: row.profile_error,
        },
    })
}

pub(crate) fn field_value(row: &subscriber_field_values::Model) -> FieldValueRecord {
    FieldValueRecord {
        field_id: row.field_id.into(),
        value: row.value.clone(),
        set_at: row.set_at,
    }
}

pub(crate) fn opt_in(row: notification_opt_ins::Model) -> DomainResult<OptIn> {
    Ok(OptIn {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        subscriber_id: row.subscriber_id.into(),
        topic_id: row.topic_id.map(Into::into),
        topic_title: row.topic_title,
        token: SealedSecret(row.token),
        frequency: row
            .frequency
            .as_deref()
            .map(|f| f.parse().map_err(|_| corrupt("frequency", f)))
            .transpose()?,
        timezone: row.timezone,
        expires_at: row.expires_at,
        status: row
            .status
            .parse()
            .map_err(|_| corrupt("opt-in status", &row.status))?,
        last_sent_at: row.last_sent_at,
    })
}
