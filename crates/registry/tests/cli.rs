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
        "--header-read-timeout",
        "--idle-timeout",
        "--max-connections",
        "--dev-auth",
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
        "DOORSTEP_REGISTRY_DEV_AUTH",
        "DOORSTEP_REGISTRY_HEADER_READ_TIMEOUT",
        "DOORSTEP_REGISTRY_IDLE_TIMEOUT",
        "DOORSTEP_REGISTRY_MAX_CONNECTIONS",
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

#[test]
fn dev_token_prints_only_a_token_that_dev_auth_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["dev-token", "--data"])
        .arg(dir.path())
        .args(["--role", "staff", "--subject", "alice"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.ends_with('\n') && stdout.lines().count() == 1,
        "{stdout:?}"
    );
    let token = stdout.trim_end();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    assert!(parts.iter().all(|p| !p.is_empty()
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let principal = runtime
        .block_on(
            doorstep_registry::auth::Authenticator::new(&Default::default(), Some(dir.path()))
                .unwrap()
                .authenticate(Some(&format!("Bearer {token}"))),
        )
        .unwrap();
    assert_eq!(principal.actor_id(), "staff:alice");
}

#[test]
fn dev_token_refuses_unknown_roles_and_agents_without_area() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(["dev-token", "--data"])
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--role", "wizard", "--subject", "merlin"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("wizard") && err.contains("citizen, agent, staff, admin"),
        "{err}"
    );

    let out = run(&["--role", "agent", "--subject", "a1"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--area"), "{err}");
}

#[test]
fn demo_data_fills_a_store_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let out = Command::new(BIN)
            .args(["demo-data", "--data"])
            .arg(dir.path())
            .args(["--households", "6", "--seed", "3"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    assert!(first.contains("households: 6 added"), "{first}");
    let second = run();
    assert!(
        second.contains("households: 0 added (0 records), 6 already there"),
        "{second}"
    );
    let bad = Command::new(BIN)
        .args(["demo-data", "--data"])
        .arg(dir.path())
        .args(["--households", "0"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn signin_jwks_prints_the_public_keys_to_register_under_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys");
    let config = dir.path().join("registry.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"store\"\n[signin]\nissuer = \"https://esignet.example.org/v1/esignet\"\nclient_id = \"doorstep\"\nprivate_key_path = {:?}\nkey_id = \"doorstep-sig-1\"\nuserinfo_decryption_key_path = {:?}\nuserinfo_decryption_key_id = \"doorstep-enc-1\"\n",
            keys.join("rsa-1.pem"),
            keys.join("rsa-2.pem"),
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["signin-jwks", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let jwks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{jwks}");
    assert_eq!(keys[0]["kid"], "doorstep-sig-1");
    assert_eq!(keys[0]["use"], "sig");
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[1]["kid"], "doorstep-enc-1");
    assert_eq!(keys[1]["use"], "enc");
    assert_eq!(keys[1]["alg"], "RSA-OAEP-256");
    for key in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                key.get(private).is_none(),
                "private member {private}: {key}"
            );
        }
    }

    // Without a [signin] section the command says what is missing.
    std::fs::write(&config, "data = \"store\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["signin-jwks", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[signin]"));
}
