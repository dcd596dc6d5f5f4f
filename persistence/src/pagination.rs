//! Keyset pagination over UUID v7 ids (time-ordered), or over a time column then the id, with
//! the total count of the filtered list.

use refhub_domain::pagination::{Page, PageRequest};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, ModelTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};

/// One page of `base` ordered by `id` (oldest first), after `page.after`.
pub(crate) async fn keyset_page<E, C>(
    conn: &C,
    base: Select<E>,
    id: E::Column,
    page: PageRequest,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    ordered_page(conn, base, id, page, Order::Asc).await
}

/// One page of `base` ordered by `id` newest first, after `page.after`.
pub(crate) async fn keyset_page_newest_first<E, C>(
    conn: &C,
    base: Select<E>,
    id: E::Column,
    page: PageRequest,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    ordered_page(conn, base, id, page, Order::Desc).await
}

async fn ordered_page<E, C>(
    conn: &C,
    base: Select<E>,
    id: E::Column,
    page: PageRequest,
    order: Order,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total_count = base.clone().count(conn).await?;
    let (items, has_next_page) = ordered_rows(conn, base, id, page, order).await?;
    Ok(Page {
        items,
        has_next_page,
        total_count,
    })
}

/// One page of `base` ordered by `id` (oldest first) without counting the list, and whether
/// more rows follow.
pub(crate) async fn keyset_rows<E, C>(
    conn: &C,
    base: Select<E>,
    id: E::Column,
    page: PageRequest,
) -> Result<(Vec<E::Model>, bool), DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    ordered_rows(conn, base, id, page, Order::Asc).await
}

async fn ordered_rows<E, C>(
    conn: &C,
    base: Select<E>,
    id: E::Column,
    page: PageRequest,
    order: Order,
) -> Result<(Vec<E::Model>, bool), DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let mut query = base.order_by(id, order.clone());
    if let Some(after) = page.after {
        query = match order {
            Order::Desc => query.filter(id.lt(after)),
            _ => query.filter(id.gt(after)),
        };
    }
    first_of(conn, query, page.first).await
}

/// One page of `base` newest first by `time`, ties newest first by `id`, with the list's
/// count. The cursor is still a row's id: the page goes on from that row's place in time (for
/// rows whose time is not their id's, such as events recorded out of order). A cursor that is
/// not a row of `base` (any more) has nothing after it.
pub(crate) async fn keyset_page_newest_by_time<E, C>(
    conn: &C,
    base: Select<E>,
    time: E::Column,
    id: E::Column,
    page: PageRequest,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total_count = base.clone().count(conn).await?;
    let mut query = base.clone().order_by_desc(time).order_by_desc(id);
    if let Some(after) = page.after {
        let Some(cursor) = base.filter(id.eq(after)).one(conn).await? else {
            return Ok(Page {
                items: Vec::new(),
                has_next_page: false,
                total_count,
            });
        };
        let at = cursor.get(time);
        query = query.filter(
            Condition::any()
                .add(time.lt(at.clone()))
                .add(Condition::all().add(time.eq(at)).add(id.lt(after))),
        );
    }
    let (items, has_next_page) = first_of(conn, query, page.first).await?;
    Ok(Page {
        items,
        has_next_page,
        total_count,
    })
}

/// The first `first` rows of `query`, and whether more follow (one row more is read to know).
async fn first_of<E, C>(
    conn: &C,
    query: Select<E>,
    first: u32,
) -> Result<(Vec<E::Model>, bool), DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let mut items = query.limit(u64::from(first) + 1).all(conn).await?;
    let has_next_page = items.len() > first as usize;
    items.truncate(first as usize);
    Ok((items, has_next_page))
}

/// Maps a page of rows whose mapping can fail (a stored value the code never wrote).
pub(crate) fn try_map_page<R, T>(
    rows: Page<R>,
    map: impl FnMut(R) -> refhub_domain::DomainResult<T>,
) -> refhub_domain::DomainResult<Page<T>> {
    Ok(Page {
        items: rows
            .items
            .into_iter()
            .map(map)
            .collect::<refhub_domain::DomainResult<_>>()?,
        has_next_page: rows.has_next_page,
        total_count: rows.total_count,
    })
}
