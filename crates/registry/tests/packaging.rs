//! The registry's Debian package (packaging/registry/): its sample config is one this server
//! accepts, and its systemd unit runs a command this binary accepts, as the user the package
//! makes, on the file the package installs. tests/packaging/run.sh checks the built .deb itself.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use doorstep_registry::config::Overrides;
use doorstep_registry::storage::DatabaseLocation;

const BIN: &str = env!("CARGO_BIN_EXE_doorstep-registry");
const CONFFILE: &str = "/etc/doorstep-registry/registry.toml";

fn packaging(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../packaging/registry")
        .join(file)
}

fn read(file: &str) -> String {
    std::fs::read_to_string(packaging(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The value of `Key=` in the unit file (the first, for keys given once).
fn unit(key: &str) -> String {
    read("doorstep-registry.service")
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("the unit has no {key}="))
        .to_owned()
}

#[test]
fn the_sample_config_is_valid_and_keeps_the_registry_on_loopback_in_var_lib() {
    let config = Overrides {
        config_file: Some(packaging("registry.toml")),
        ..Overrides::default()
    }
    .resolve()
    .expect("packaging/registry/registry.toml is a valid config file");
    assert_eq!(config.listen.to_string(), "127.0.0.1:8700");
    assert_eq!(config.data_dir, Path::new("/var/lib/doorstep-registry"));
    assert_eq!(config.database, DatabaseLocation::EmbeddedSqlite);
    assert!(
        !config.demo && !config.dev_auth,
        "a packaged registry has no demo data or dev tokens"
    );
}

#[test]
fn the_unit_serves_the_conffile_as_the_packaged_user_in_its_state_directory() {
    assert_eq!(read("debian/conffiles").trim(), CONFFILE);
    assert_eq!(
        unit("ExecStart"),
        format!("/usr/bin/doorstep-registry serve --config {CONFFILE}")
    );
    // The user systemd-sysusers makes (`u NAME …`) is the one the service runs as, and the data
    // folder of the config is the unit's StateDirectory.
    let sysusers = read("doorstep-registry.sysusers");
    let user = sysusers
        .lines()
        .find_map(|l| l.strip_prefix("u "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the sysusers.d file makes a user");
    assert_eq!(unit("User"), user);
    assert_eq!(unit("Group"), user);
    assert_eq!(
        Path::new("/var/lib").join(unit("StateDirectory")),
        Path::new("/var/lib/doorstep-registry")
    );
}

#[test]
fn the_binary_accepts_the_units_command_line() {
    // The unit's arguments, with the repository's copy of the conffile; the address and the data
    // folder come from the environment (which outranks the file) so the test binds no fixed port.
    let exec = unit("ExecStart");
    let mut args: Vec<String> = exec.split_whitespace().skip(1).map(str::to_owned).collect();
    let config = args
        .iter()
        .position(|a| a == CONFFILE)
        .expect("ExecStart names the conffile");
    args[config] = packaging("registry.toml").display().to_string();
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(&args)
        .env("DOORSTEP_REGISTRY_LISTEN", "127.0.0.1:0")
        .env("DOORSTEP_REGISTRY_DATA", data.path())
        .env_remove("DOORSTEP_REGISTRY_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if !line.starts_with("doorstep-registry listening on http://127.0.0.1:") {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "the server did not start with `{exec}`: {line}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    child.kill().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the server did not end within 20 s of SIGKILL"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
