//! The administrator's commands, run before any window: `doorstep check-config` and
//! `doorstep hash-pin`. Without one of them the app starts as usual.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use doorstep_client::app::config::hash_operator_pin;
use doorstep_client::device_config::{DeviceConfig, Sources};

/// The app's identifier (tauri.conf.json): its folders are named after it.
pub const IDENTIFIER: &str = "org.doorstep.client";

const HELP: &str = "\
Usage: doorstep [COMMAND]

Without a command, the app starts.

Commands:
  check-config   check the device configuration (the built-in defaults, /etc/doorstep/config.toml,
                 your own file, DOORSTEP_* variables) and say what is wrong, or that it is valid
  hash-pin       read a kiosk operator PIN (6 to 12 digits) and print the hash to put in
                 /etc/doorstep/config.toml as kiosk.operator_pin
  version        print the version";

/// Run the command in `args` (without the program name), if it is one: `Some(exit code)`.
pub fn run(args: &[String]) -> Option<i32> {
    match args.first().map(String::as_str)? {
        "check-config" => Some(check_config()),
        "hash-pin" => Some(hash_pin()),
        "version" | "--version" | "-V" => {
            println!("doorstep {}", doorstep_client::VERSION);
            Some(0)
        }
        "help" | "--help" | "-h" => {
            println!("{HELP}");
            Some(0)
        }
        _ => None,
    }
}

fn check_config() -> i32 {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let sources = Sources::standard(platform_dir("XDG_CONFIG_HOME", ".config"), &env);
    let data = platform_dir("XDG_DATA_HOME", ".local/share").unwrap_or_else(|| ".".into());
    match DeviceConfig::load(data, &sources, env) {
        Ok(config) => {
            println!("The configuration is valid.");
            for file in &config.layers.files {
                println!("  read {}", file.display());
            }
            if let Some(ignored) = &config.layers.ignored_user_file {
                println!("  not read on a kiosk: {}", ignored.display());
            }
            for (key, value, origin) in config.layers.describe() {
                println!("  {key} = {value}  (from {origin})");
            }
            0
        }
        Err(problem) => {
            eprintln!("The configuration has a mistake:");
            eprintln!("  in:  {}", problem.origin);
            if let Some(key) = &problem.key {
                eprintln!("  key: {key}");
            }
            eprintln!("  {}", problem.problem);
            eprintln!("  fix: {}", problem.fix);
            1
        }
    }
}

fn hash_pin() -> i32 {
    let stdin = std::io::stdin();
    let ask = stdin.is_terminal();
    // Typed at a terminal, the PIN is not shown (stty reads the same terminal on stdin).
    let echo = |on: bool| {
        if ask {
            let _ = std::process::Command::new("stty")
                .arg(if on { "echo" } else { "-echo" })
                .status();
        }
    };
    echo(false);
    let read = |prompt: &str| -> Option<String> {
        if ask {
            eprint!("{prompt}");
            let _ = std::io::stderr().flush();
        }
        let mut line = String::new();
        stdin.lock().read_line(&mut line).ok()?;
        Some(line.trim().to_owned())
    };
    let first = read("Operator PIN (6 to 12 digits): ");
    let again = if ask {
        read("\nThe same PIN again: ")
    } else {
        first.clone()
    };
    echo(true);
    if ask {
        eprintln!();
    }
    let Some(pin) = first else {
        eprintln!("no PIN given");
        return 2;
    };
    if again.as_deref() != Some(pin.as_str()) {
        eprintln!("the two PINs differ; nothing was made");
        return 1;
    }
    match hash_operator_pin(&pin) {
        Ok(hash) => {
            println!("{hash}");
            0
        }
        Err(why) => {
            eprintln!("{why}");
            1
        }
    }
}

/// The app's folder under an XDG base directory (as Tauri names it on Linux).
fn platform_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    let base = std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(fallback)))?;
    Some(base.join(IDENTIFIER))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_identifier_is_the_one_tauri_uses() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(conf["identifier"], super::IDENTIFIER);
    }

    #[test]
    fn only_the_known_commands_are_taken() {
        assert_eq!(super::run(&["version".into()]), Some(0));
        assert_eq!(super::run(&[]), None);
        assert_eq!(super::run(&["--some-webdriver-flag".into()]), None);
    }
}
