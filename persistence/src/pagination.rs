//! Keyset pagination over UUID v7 ids (time-ordered), or over a time column then the id, with
//! the total count of the filtered list.

use refhub_domain::pagination::{Page, PageRequest};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, ModelTrait,
    Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
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
    ordered_page(conn, base, id, page, Order::Asc, None).await
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
    ordered_page(conn, base, id, page, Order::Desc, None).await
}

/// One page of `base` ordered by `id` (oldest first), after `page.after`, whose list's count is
/// `known_count` when the caller has it (remembered from an earlier page), and is otherwise
/// read with the page.
pub(crate) async fn keyset_page_counted<E, C>(
    conn: &C,
    base: Select<E>,
    id: E::Column,
    page: PageRequest,
    known_count: Option<u64>,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    ordered_page(conn, base, id, page, Order::Asc, known_count).await
}

async fn ordered_page<E, C>(
    conn: &C,
    base: Select<E>,
    id: E::Column,
    page: PageRequest,
    order: Order,
    known_count: Option<u64>,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let mut query = base.clone().order_by(id, order.clone());
    if let Some(after) = page.after {
        query = match order {
            Order::Desc => query.filter(id.lt(after)),
            _ => query.filter(id.gt(after)),
        };
    }
    first_of(conn, query, page.first, base, known_count).await
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
    let mut query = base.clone().order_by_desc(time).order_by_desc(id);
    if let Some(after) = page.after {
        let Some(cursor) = base.clone().filter(id.eq(after)).one(conn).await? else {
            return Ok(Page {
                items: Vec::new(),
                has_next_page: false,
                total_count: base.count(conn).await?,
            });
        };
        let at = cursor.get(time);
        query = query.filter(
            Condition::any()
                .add(time.lt(at.clone()))
                .add(Condition::all().add(time.eq(at)).add(id.lt(after))),
        );
    }
    first_of(conn, query, page.first, base, None).await
}

/// The column that carries the list's count on each row of a page.
const LIST_COUNT: &str = "refhub_list_count";

/// The first `first` rows of `query`, whether more follow (one row more is read to know), and
/// the count of `list`'s rows: `known_count` when the caller has it, else read with the page.
///
/// A count is read in the page's own statement, as an uncorrelated scalar subquery (evaluated
/// once, not per row) carried on every row: one round trip fewer per page, which on PostgreSQL
/// costs more than counting a small list does. A page that comes back empty has no row to
/// carry it, so the list is then counted on its own.
async fn first_of<E, C>(
    conn: &C,
    query: Select<E>,
    first: u32,
    list: Select<E>,
    known_count: Option<u64>,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let query = query.limit(u64::from(first) + 1);
    let (mut items, total_count) = match known_count {
        Some(count) => (query.all(conn).await?, count),
        None => {
            let counted = Query::select()
                .expr(Expr::cust("COUNT(*)"))
                .from_subquery(list.clone().into_query(), "counted")
                .to_owned();
            let statement = query
                .expr_as(Expr::SubQuery(None, Box::new(counted.into())), LIST_COUNT)
                .into_query();
            let rows = conn.query_all(&statement).await?;
            let total_count = match rows.first() {
                Some(row) => u64::try_from(row.try_get::<i64>("", LIST_COUNT)?)
                    .map_err(|_| DbErr::Type("a negative count".to_owned()))?,
                None => list.count(conn).await?,
            };
            let items = rows
                .iter()
                .map(|row| E::Model::from_query_result(row, ""))
                .collect::<Result<Vec<_>, _>>()?;
            (items, total_count)
        }
    };
    let has_next_page = items.len() > first as usize;
    items.truncate(first as usize);
    Ok(Page {
        items,
        has_next_page,
        total_count,
    })
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
