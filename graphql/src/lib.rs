//! The refhub GraphQL admin API. Resolvers call the domain's use cases and nothing else; errors
//! are turned into `extensions.code` in exactly one place ([`error`]).

mod activity;
mod analytics;
mod audience;
mod auth_context;
mod catalogue;
mod connection;
mod connection_descriptions;
mod cost;
mod document_size;
mod error;
mod field_order;
mod flows;
mod identity;
mod ids;
mod limits;
mod loaders;
mod null_propagation;
mod page_setup;
mod signed_url;

use async_graphql::{MergedObject, Schema};

pub use activity::{ActivityFeed, SubscriptionRoot};

pub use auth_context::{
    Authentication, ClientAddress, Services, SignInThrottle, prepare_request, subscription_data,
};
pub use error::{refusal_response, tag_uncoded_errors};
pub use limits::{AppSchema, operation_type, too_deeply_nested};
pub use loaders::{TaskSpawner, spawn_plainly};

/// Every query of the API.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    identity::IdentityQuery,
    catalogue::CatalogueQuery,
    audience::AudienceQuery,
    flows::FlowsQuery,
    analytics::AnalyticsQuery,
);

/// Every mutation of the API.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    identity::IdentityMutation,
    catalogue::CatalogueMutation,
    audience::AudienceMutation,
    flows::FlowsMutation,
    analytics::AnalyticsMutation,
    page_setup::PageSetupMutation,
);

/// The schema as async-graphql executes it; the application runs it as an [`AppSchema`].
type ExecutableSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Limits on what one request may ask for.
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    /// Deepest selection allowed.
    pub max_depth: usize,
    /// Highest total field cost allowed.
    pub max_complexity: usize,
    /// Most aliases one document may use.
    pub max_aliases: usize,
    /// Whether clients may ask for the schema itself.
    pub introspection: bool,
    /// Whether errors about unknown fields, arguments and types suggest the names the schema
    /// has ("Did you mean …?"): a way to read the schema without introspection.
    pub suggestions: bool,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            max_depth: 16,
            // Every list costs its length (see `cost`): a page of 100 subscribers with their
            // fields, tags and opt-ins costs about 7,500, a page of 100 runs with their history
            // about 13,500; pages of pages of 100 (40,000) and a cycle's turns do not fit.
            max_complexity: 20_000,
            max_aliases: 30,
            introspection: true,
            suggestions: true,
        }
    }
}

/// Builds the schema around the application's services.
pub fn build_schema(services: Services, limits: SchemaLimits) -> AppSchema {
    let mut builder = connection_descriptions::describe_connections(Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    ))
    .data(services)
    .extension(null_propagation::RootNullPropagation)
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if !limits.suggestions {
        builder = builder.disable_suggestions();
    }
    AppSchema::new(builder.finish(), limits.max_aliases)
}

/// The schema in SDL, as committed in `schema.graphql` at the repository root.
pub fn schema_sdl() -> String {
    connection_descriptions::describe_connections(Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    ))
    .finish()
    .sdl()
}
