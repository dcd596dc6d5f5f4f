//! Catalogue rows to domain values and back, written once.

use refhub_domain::DomainResult;
use refhub_domain::catalogue::{
    CustomField, MessengerApp, NotificationTopic, Page, PageHealth, PageStatus, RefLink, RefName,
    SealedSecret, Tag, TopicRegistration, WebhookKey,
};
use refhub_domain::ids::TagId;
use sea_orm::{NotSet, Set};

use crate::entities::{custom_fields, messenger_apps, notification_topics, pages, ref_links, tags};
use crate::error::corrupt;

/// The case-insensitive key names are unique by.
pub(crate) fn name_key(name: &str) -> String {
    name.to_lowercase()
}

pub(crate) fn messenger_app(row: messenger_apps::Model) -> MessengerApp {
    MessengerApp {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        app_id: row.app_id,
        app_secret: SealedSecret(row.app_secret),
        verify_token: SealedSecret(row.verify_token),
        webhook_key: WebhookKey::from_stored(row.webhook_key),
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

pub(crate) fn messenger_app_row(app: &MessengerApp) -> messenger_apps::ActiveModel {
    messenger_apps::ActiveModel {
        tenant_id: Set(app.tenant_id.0),
        id: Set(app.id.0),
        app_id: Set(app.app_id.clone()),
        app_secret: Set(app.app_secret.0.clone()),
        verify_token: Set(app.verify_token.0.clone()),
        webhook_key: Set(app.webhook_key.as_str().to_owned()),
        created_at: Set(app.created_at),
        updated_at: Set(app.updated_at),
    }
}

pub(crate) fn page(row: pages::Model) -> Page {
    Page {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        facebook_page_id: row.facebook_page_id,
        name: row.name,
        username: row.username,
        access_token: SealedSecret(row.access_token),
        health: PageHealth {
            status: PageStatus::parse(&row.status),
            code: row.status_code,
            subcode: row.status_subcode,
            message: row.status_message,
            changed_at: row.status_changed_at,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

pub(crate) fn page_row(page: &Page) -> pages::ActiveModel {
    pages::ActiveModel {
        tenant_id: Set(page.tenant_id.0),
        id: Set(page.id.0),
        facebook_page_id: Set(page.facebook_page_id.clone()),
        name: Set(page.name.clone()),
        username: Set(page.username.clone()),
        access_token: Set(page.access_token.0.clone()),
        created_at: Set(page.created_at),
        updated_at: Set(page.updated_at),
        status: Set(page.health.status.as_str().to_owned()),
        status_code: Set(page.health.code),
        status_subcode: Set(page.health.subcode),
        status_message: Set(page.health.message.clone()),
        status_changed_at: Set(page.health.changed_at),
        // Written only by the periodic check's claim.
        token_checked_at: NotSet,
    }
}

pub(crate) fn custom_field(row: custom_fields::Model) -> DomainResult<CustomField> {
    Ok(CustomField {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        number: row.number,
        field_type: row
            .field_type
            .parse()
            .map_err(|_| corrupt("field type", &row.field_type))?,
        name: row.name,
        description: row.description,
        archived_at: row.archived_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub(crate) fn custom_field_row(field: &CustomField) -> custom_fields::ActiveModel {
    custom_fields::ActiveModel {
        tenant_id: Set(field.tenant_id.0),
        id: Set(field.id.0),
        number: Set(field.number),
        name: Set(field.name.clone()),
        name_key: Set(name_key(&field.name)),
        field_type: Set(field.field_type.as_str().to_owned()),
        description: Set(field.description.clone()),
        archived_at: Set(field.archived_at),
        created_at: Set(field.created_at),
        updated_at: Set(field.updated_at),
    }
}

pub(crate) fn tag(row: tags::Model) -> Tag {
    Tag {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        name: row.name,
        created_at: row.created_at,
    }
}

pub(crate) fn tag_row(tag: &Tag) -> tags::ActiveModel {
    tags::ActiveModel {
        tenant_id: Set(tag.tenant_id.0),
        id: Set(tag.id.0),
        name: Set(tag.name.clone()),
        name_key: Set(name_key(&tag.name)),
        created_at: Set(tag.created_at),
    }
}

pub(crate) fn ref_link(row: ref_links::Model, tag_ids: Vec<TagId>) -> DomainResult<RefLink> {
    Ok(RefLink {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        page_id: row.page_id.into(),
        ref_name: RefName::parse(&row.ref_name).map_err(|_| corrupt("ref", &row.ref_name))?,
        text: row.text,
        default_field_id: row.default_field_id.map(Into::into),
        flow_id: row.flow_id.map(Into::into),
        short_code: row
            .short_code
            .ok_or_else(|| corrupt("short code", "NULL"))?,
        tag_ids,
        active: row.active,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub(crate) fn ref_link_row(link: &RefLink) -> ref_links::ActiveModel {
    ref_links::ActiveModel {
        tenant_id: Set(link.tenant_id.0),
        id: Set(link.id.0),
        page_id: Set(link.page_id.0),
        ref_name: Set(link.ref_name.as_str().to_owned()),
        text: Set(link.text.clone()),
        default_field_id: Set(link.default_field_id.map(|f| f.0)),
        flow_id: Set(link.flow_id.map(|f| f.0)),
        short_code: Set(Some(link.short_code.clone())),
        active: Set(link.active),
        created_at: Set(link.created_at),
        updated_at: Set(link.updated_at),
    }
}

pub(crate) fn topic(row: notification_topics::Model) -> DomainResult<NotificationTopic> {
    let registration = match (row.registration_status.as_str(), row.registered_at) {
        ("unregistered", _) => TopicRegistration::Unregistered,
        ("registered", Some(at)) => TopicRegistration::Registered {
            at,
            message_id: row.registration_message_id.unwrap_or_default(),
        },
        ("failed", Some(at)) => TopicRegistration::Failed {
            at,
            error: row.registration_error.unwrap_or_default(),
        },
        (status, _) => return Err(corrupt("topic registration", status)),
    };
    Ok(NotificationTopic {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        page_id: row.page_id.into(),
        default_cadence: row
            .default_cadence
            .parse()
            .map_err(|_| corrupt("cadence", &row.default_cadence))?,
        title: row.title,
        registration,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub(crate) fn topic_row(topic: &NotificationTopic) -> notification_topics::ActiveModel {
    let (status, at, message_id, error) = match &topic.registration {
        TopicRegistration::Unregistered => ("unregistered", None, None, None),
        TopicRegistration::Registered { at, message_id } => {
            ("registered", Some(*at), Some(message_id.clone()), None)
        }
        TopicRegistration::Failed { at, error } => ("failed", Some(*at), None, Some(error.clone())),
    };
    notification_topics::ActiveModel {
        tenant_id: Set(topic.tenant_id.0),
        id: Set(topic.id.0),
        page_id: Set(topic.page_id.0),
        title: Set(topic.title.clone()),
        title_key: Set(name_key(&topic.title)),
        default_cadence: Set(topic.default_cadence.as_str().to_owned()),
        registration_status: Set(status.to_owned()),
        registered_at: Set(at),
        registration_message_id: Set(message_id),
        registration_error: Set(error),
        created_at: Set(topic.created_at),
        updated_at: Set(topic.updated_at),
    }
}
