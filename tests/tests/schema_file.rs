//! `schema.graphql` at the repository root is the API contract the dashboard generates its
//! client from: it must be exactly what the code serves.

use std::path::Path;

#[test]
fn schema_file_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    // One final newline, whatever the generator: `refhub print-schema` prints with a newline.
    let sdl = format!("{}\n", refhub_graphql::schema_sdl().trim_end());

    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &sdl).expect("could not write schema.graphql");
        return;
    }

    let on_disk = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .replace("\r\n", "\n");
    assert!(
        on_disk == sdl,
        "{} is {} the schema the code serves.\n\
         Regenerate it with: UPDATE_SCHEMA=1 cargo test -p refhub-tests --test schema_file\n\
         (or: cargo run -- print-schema > schema.graphql)\n\
         and review the difference before committing.\n{}",
        path.display(),
        if on_disk.is_empty() {
            "missing or empty, not"
        } else {
            "out of date with"
        },
        first_difference(&on_disk, &sdl),
    );
}

/// The first differing line, so that the failure says where to look.
fn first_difference(on_disk: &str, code: &str) -> String {
    let mut disk_lines = on_disk.lines();
    let mut code_lines = code.lines();
    for number in 1.. {
        match (disk_lines.next(), code_lines.next()) {
            (None, None) => return "They differ only in line endings or the final newline.".into(),
            (disk, code) if disk != code => {
                return format!(
                    "First difference at line {number}:\n  file: {}\n  code: {}",
                    disk.unwrap_or("<end of file>"),
                    code.unwrap_or("<end of schema>")
                );
            }
            _ => {}
        }
    }
    unreachable!()
}

/// Recurring notifications are legacy (Meta ended them on 2026-02-10 outside a few regions):
/// every field that exists for them says so, with the reason, so generated clients warn.
#[test]
fn recurring_notification_fields_are_deprecated_with_metas_dates() {
    let sdl = refhub_graphql::schema_sdl();
    let legacy = [
        "createNotificationTopic(",
        "updateNotificationTopic(",
        "deleteNotificationTopic(",
        "registerNotificationTopic(",
        "sendTopicNotification(",
        "notificationTopic(",
        "optIns:",
        "topicOptIn:",
    ];
    let lines: Vec<&str> = sdl.lines().collect();
    for field in legacy {
        let start = lines
            .iter()
            .position(|line| line.trim_start().starts_with(field))
            .unwrap_or_else(|| panic!("{field} is in the schema"));
        // A field with described arguments spans lines up to the one closing them.
        let end = if lines[start].trim_end().ends_with('(') {
            (start..lines.len())
                .find(|&i| lines[i].trim_start().starts_with("):"))
                .unwrap_or(start)
        } else {
            start
        };
        let line = lines[start..=end].join(" ");
        assert!(
            line.contains("@deprecated(reason: \"Meta retired recurring notifications")
                && line.contains("2026-02-10"),
            "{field} is deprecated with the reason: {line}"
        );
    }
    // The two topic lists (on the root and on a page) end their argument lists with it.
    let lists = sdl
        .lines()
        .filter(|line| {
            line.contains("): NotificationTopicConnection! @deprecated(reason: \"Meta retired")
        })
        .count();
    assert_eq!(lists, 2);
}

/// Everything a dashboard developer reads in GraphiQL or their editor is described: every type,
/// field, argument, input field and enum value (the built-in scalars and introspection aside).
#[test]
fn every_type_field_argument_and_enum_value_is_described() {
    use async_graphql::parser::parse_schema;
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    let sdl = refhub_graphql::schema_sdl();
    let document = parse_schema(&sdl).expect("the schema parses");
    let mut undescribed = Vec::new();
    let described = |d: &Option<async_graphql::Positioned<String>>| {
        d.as_ref().is_some_and(|d| !d.node.trim().is_empty())
    };
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let ty = &ty.node;
        let name = ty.name.node.as_str();
        if ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        if !described(&ty.description) {
            undescribed.push(format!("type {name}"));
        }
        match &ty.kind {
            TypeKind::Object(object) => {
                for field in &object.fields {
                    let field = &field.node;
                    if !described(&field.description) {
                        undescribed.push(format!("{name}.{}", field.name.node));
                    }
                    for argument in &field.arguments {
                        if !described(&argument.node.description) {
                            undescribed.push(format!(
                                "{name}.{}({})",
                                field.name.node, argument.node.name.node
                            ));
                        }
                    }
                }
            }
            TypeKind::Interface(interface) => {
                for field in &interface.fields {
                    if !described(&field.node.description) {
                        undescribed.push(format!("{name}.{}", field.node.name.node));
                    }
                }
            }
            TypeKind::InputObject(input) => {
                for field in &input.fields {
                    if !described(&field.node.description) {
                        undescribed.push(format!("{name}.{}", field.node.name.node));
                    }
                }
            }
            TypeKind::Enum(enumeration) => {
                for value in &enumeration.values {
                    if !described(&value.node.description) {
                        undescribed.push(format!("{name}.{}", value.node.value.node));
                    }
                }
            }
            TypeKind::Scalar | TypeKind::Union(_) => {}
        }
    }
    assert!(
        undescribed.is_empty(),
        "{} schema elements have no description:\n{}",
        undescribed.len(),
        undescribed.join("\n")
    );
}

/// Relay tooling reads a type named `…Connection` as a connection: only those are so named.
#[test]
fn only_relay_connections_are_named_connection() {
    use async_graphql::parser::parse_schema;
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    let document = parse_schema(refhub_graphql::schema_sdl()).expect("the schema parses");
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let name = ty.node.name.node.as_str();
        if !name.ends_with("Connection") {
            continue;
        }
        let TypeKind::Object(object) = &ty.node.kind else {
            panic!("{name} is not an object type");
        };
        let fields: Vec<&str> = object
            .fields
            .iter()
            .map(|f| f.node.name.node.as_str())
            .collect();
        assert!(
            fields.contains(&"edges") && fields.contains(&"pageInfo"),
            "{name} is named like a Relay connection but has no edges and pageInfo"
        );
    }
}
