//! One place holds the version: `version` in the workspace's Cargo.toml (`[workspace.package]`).
//! Every crate inherits it, the Tauri configurations carry none (Tauri then takes the Cargo
//! package's, for the app and for its .deb, .rpm, .msi and NSIS installers alike), and the npm
//! packages that carry one (npm writes it into their lock files too) must agree. A release bumps
//! one line; this test fails on any copy left behind.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("src-tauri sits in the repository")
        .to_owned()
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo().join(relative))
        .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// The lines of a TOML table, up to the next table header (enough for Cargo.toml's plain keys).
fn table<'a>(toml: &'a str, header: &str) -> Vec<&'a str> {
    toml.lines()
        .skip_while(|line| line.trim() != header)
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .collect()
}

fn workspace_version() -> String {
    let manifest = read("Cargo.toml");
    let line = table(&manifest, "[workspace.package]")
        .into_iter()
        .find(|line| line.trim_start().starts_with("version"))
        .expect("Cargo.toml's [workspace.package] has a version");
    let value = line.split_once('=').expect("version = \"…\"").1.trim();
    value.trim_matches('"').to_owned()
}

fn workspace_members() -> Vec<String> {
    let manifest = read("Cargo.toml");
    let start = manifest
        .find("members = [")
        .expect("Cargo.toml lists the workspace's members");
    let list = &manifest[start + "members = [".len()..];
    let list = &list[..list.find(']').expect("the members list ends")];
    list.split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

fn json(relative: &str) -> serde_json::Value {
    serde_json::from_str(&read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn this_crate_is_built_with_the_workspace_version() {
    assert_eq!(env!("CARGO_PKG_VERSION"), workspace_version());
}

#[test]
fn every_crate_inherits_the_workspace_version() {
    for member in workspace_members() {
        let path = format!("{member}/Cargo.toml");
        let manifest = read(&path);
        let package = table(&manifest, "[package]");
        let versions: Vec<&str> = package
            .iter()
            .map(|l| l.trim())
            .filter(|l| l.starts_with("version"))
            .collect();
        assert_eq!(
            versions,
            ["version.workspace = true"],
            "{path}: the version comes from the workspace; write `version.workspace = true`"
        );
    }
}

#[test]
fn tauri_configurations_carry_no_version() {
    for path in ["src-tauri/tauri.conf.json", "bench/bare/tauri.conf.json"] {
        let config = json(path);
        assert!(
            config.get("version").is_none(),
            "{path} has a \"version\": remove it, Tauri then takes the Cargo package's (the workspace's {})",
            workspace_version()
        );
    }
}

#[test]
fn npm_packages_carry_the_workspace_version_or_none() {
    let version = workspace_version();
    for dir in ["ui", "tests/e2e", "tests/oidc-provider"] {
        let package = json(&format!("{dir}/package.json"));
        let Some(declared) = package.get("version") else {
            continue;
        };
        assert_eq!(
            declared, &version,
            "{dir}/package.json's version differs from Cargo.toml's [workspace.package] version"
        );
        // npm copies it into the lock file, twice.
        let lock = json(&format!("{dir}/package-lock.json"));
        assert_eq!(
            lock["version"], version,
            "{dir}/package-lock.json: run npm install"
        );
        assert_eq!(
            lock["packages"][""]["version"], version,
            "{dir}/package-lock.json: run npm install"
        );
    }
}
