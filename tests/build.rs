//! Fingerprints the migration crate's sources at build time, so that the PostgreSQL test
//! template is rebuilt whenever a migration is edited in place (its name alone would not change),
//! and so that the fingerprint always matches the migrations compiled into the tests.
//!
//! It also sets `cfg(refhub_postgres)` when the tests are built to run on PostgreSQL
//! (`TEST_DATABASE_URL` set), so that tests only PostgreSQL can run are marked ignored on SQLite
//! instead of passing without having run.

use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(refhub_postgres)");
    println!("cargo:rerun-if-env-changed=TEST_DATABASE_URL");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo:rustc-cfg=refhub_postgres");
    }
    let migration = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migration");
    let mut files = vec![migration.join("Cargo.toml")];
    collect(&migration.join("src"), &mut files);
    files.sort();

    // DefaultHasher::new() uses fixed keys: stable from one build to the next.
    let mut hasher = DefaultHasher::new();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let relative = file.strip_prefix(&migration).unwrap_or(file);
        hasher.write(relative.to_string_lossy().as_bytes());
        hasher.write(&std::fs::read(file).unwrap_or_default());
    }
    println!("cargo:rerun-if-changed={}", migration.join("src").display());
    println!(
        "cargo:rustc-env=REFHUB_MIGRATION_SOURCES_HASH={:016x}",
        hasher.finish()
    );
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
