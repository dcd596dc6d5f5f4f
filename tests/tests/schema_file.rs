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
        "notificationTopic(id:",
        "optIns:",
        "topicOptIn:",
    ];
    for field in legacy {
        let line = sdl
            .lines()
            .find(|line| line.trim_start().starts_with(field))
            .unwrap_or_else(|| panic!("{field} is in the schema"));
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
