//! The `doorstep-registry` binary as an operator uses it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_doorstep-registry");

#[test]
fn help_explains_every_option() {
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--config",
        "--listen",
        "--data",
        "--demo",
        "--shutdown-grace",
    ] {
        assert!(
            help.contains(option),
            "--help does not mention {option}:\n{help}"
        );
    }
    for env in [
        "DOORSTEP_REGISTRY_LISTEN",
        "DOORSTEP_REGISTRY_DATA",
        "DOORSTEP_REGISTRY_CONFIG",
    ] {
        assert!(help.contains(env), "--help does not mention {env}");
    }
}

#[test]
fn missing_data_dir_exits_2_with_a_hint() {
    let out = Command::new(BIN)
        .arg("serve")
        .env_remove("DOORSTEP_REGISTRY_DATA")
        .env_remove("DOORSTEP_REGISTRY_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--data"), "{err}");
}

#[test]
fn serves_from_env_config_then_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("DOORSTEP_REGISTRY_LISTEN", "127.0.0.1:0")
        .env("DOORSTEP_REGISTRY_DATA", dir.path())
        .env("DOORSTEP_REGISTRY_DEMO", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("doorstep-registry listening on ")
        .expect(&line)
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(dir.path().join("registry.sqlite3").is_file());

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop within 20 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
}
