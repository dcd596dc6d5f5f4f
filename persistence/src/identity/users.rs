use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::identity::{Email, User, UserRepository};
use refhub_domain::ids::UserId;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::mapping;
use crate::Store;
use crate::entities::users;
use crate::error::internal;

#[async_trait]
impl UserRepository for Store {
    async fn find(&self, id: UserId) -> DomainResult<Option<User>> {
        let row = users::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(internal)?;
        Ok(row.map(mapping::user))
    }

    async fn find_by_email(&self, email: &Email) -> DomainResult<Option<User>> {
        let row = users::Entity::find()
            .filter(users::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await
            .map_err(internal)?;
        Ok(row.map(mapping::user))
    }

    async fn upsert_operator(&self, candidate: &User) -> DomainResult<User> {
        let existing = self.find_by_email(&candidate.email).await?;
        let row = match existing {
            Some(user) => {
                let active = users::ActiveModel {
                    id: Set(user.id.0),
                    password_hash: Set(candidate.password_hash.0.clone()),
                    is_operator: Set(true),
                    ..Default::default()
                };
                active.update(&self.db).await
            }
            None => new_user_row(candidate).insert(&self.db).await,
        }
        .map_err(internal)?;
        Ok(mapping::user(row))
    }
}

pub(crate) fn new_user_row(user: &User) -> users::ActiveModel {
    users::ActiveModel {
        id: Set(user.id.0),
        email: Set(user.email.as_str().to_owned()),
        password_hash: Set(user.password_hash.0.clone()),
        is_operator: Set(user.is_operator),
        created_at: Set(user.created_at),
    }
}
