//! Carries a ministry's default device configuration into the binary: `DOORSTEP_BUILD_DEFAULTS`
//! names a TOML file in the configuration files' format (see src/device_config). Without it the
//! build has no defaults beyond the app's own. The file is checked when the app starts and by
//! `doorstep check-config`; `./dev bundle` runs that check on what it built.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=DOORSTEP_BUILD_DEFAULTS");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("built-in-config.toml");
    let text = match std::env::var_os("DOORSTEP_BUILD_DEFAULTS").filter(|p| !p.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            println!("cargo:rerun-if-changed={}", path.display());
            std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "DOORSTEP_BUILD_DEFAULTS={}: {e} (give an absolute path)",
                    path.display()
                )
            })
        }
        None => String::new(),
    };
    std::fs::write(&out, text).expect("write the built-in configuration");
}
