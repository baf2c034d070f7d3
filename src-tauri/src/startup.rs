//! Starting up: the device configuration, one instance per data folder, the main window.
//!
//! A configuration mistake or a second instance does not end the process with a line on stderr
//! nobody sees (an app started from the desktop menu has no terminal): the window opens and
//! shows the [`StartupProblem`], naming the file, the key and the fix.

use std::fs::File;
use std::path::{Path, PathBuf};

use doorstep_client::app::DeviceMode;
use doorstep_client::device_config::{ConfigProblem, DeviceConfig, Sources};
use serde::Serialize;
use tauri::{App, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

/// Why the app cannot start, for the window to show.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum StartupProblem {
    /// A configuration file, the build's defaults or an environment variable is wrong.
    #[serde(rename_all = "camelCase")]
    Configuration { problem: ConfigProblem },
    /// Another Doorstep has this data folder open, and no D-Bus session could bring it forward.
    AlreadyOpen,
    /// The data folder or the window could not be opened (a full disk, a broken display).
    #[serde(rename_all = "camelCase")]
    CannotOpen { reason: String },
}

/// The startup problem, if any; managed in every case so the UI can always ask.
pub struct Startup(pub Option<StartupProblem>);

/// Read the configuration the way the app does (the platform's folders, the environment).
pub fn load_config(app: &App) -> Result<DeviceConfig, ConfigProblem> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let sources = Sources::standard(app.path().app_config_dir().ok(), &env);
    let data_dir = app
        .path()
        .app_data_dir()
        .unwrap_or_else(|_| PathBuf::from("."));
    DeviceConfig::load(data_dir, &sources, env)
}

/// Held for the app's lifetime: one process per data folder even without D-Bus (the
/// single-instance plugin needs a session bus; a bare kiosk image may have none). Two
/// processes on one vault would each believe they own its sessions and sync state.
pub struct InstanceLock(#[allow(dead_code)] File);

impl InstanceLock {
    /// `Ok(None)`: another process holds it.
    pub fn take(data_dir: &Path) -> std::io::Result<Option<InstanceLock>> {
        std::fs::create_dir_all(data_dir)?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(data_dir.join("instance.lock"))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(InstanceLock(file))),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

/// Set by a version that installed an update on the new version it starts: the old process's id.
pub const ENV_PREVIOUS_PID: &str = "DOORSTEP_UPDATED_FROM_PID";

/// After an update: wait (at most 30 s) until the version that started this one has ended.
/// Until then it still holds the single-instance name and the lock, and this process would take
/// itself for a second start and hand over to a process that is about to exit. Returns the
/// previous version's process id, if this start follows an update.
pub fn wait_for_previous_version() -> Option<u32> {
    let pid = std::env::var(ENV_PREVIOUS_PID)
        .ok()
        .and_then(|p| p.parse::<u32>().ok())?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while process_running(pid) {
        if std::time::Instant::now() > deadline {
            tracing::warn!(pid, "the previous version is still running after 30 s");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Some(pid)
}

/// Whether process `pid` runs (a zombie, ended but not yet reaped, does not).
fn process_running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state is the first field after the command name, which is in parentheses.
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with(['Z', 'X'])),
            Err(_) => false,
        }
    } else {
        // Elsewhere the installer restarts the app itself (Windows) and this is not set.
        false
    }
}

/// The D-Bus name of the instance for `data_dir`: two installations (or test devices) with
/// different data folders are different apps; the same folder is the same app.
pub fn instance_id(identifier: &str, data_dir: &Path) -> String {
    // A stable hash (FNV-1a): the name must be the same in every process.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data_dir.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{identifier}.i{h:016x}")
}

/// The main window, as the device mode wants it. A kiosk's fills the screen with no frame,
/// stays above everything and has no developer tools; every window refuses to navigate away
/// from the app's own pages (a link or a script cannot replace the app with a web page).
pub fn main_window(app: &App, mode: Option<DeviceMode>) -> tauri::Result<WebviewWindow> {
    let kiosk = mode == Some(DeviceMode::Kiosk);
    let mut builder = WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
        .title("Doorstep")
        .inner_size(1024.0, 768.0)
        .min_inner_size(480.0, 560.0)
        .center()
        .on_navigation(is_app_page);
    if kiosk {
        builder = builder
            .fullscreen(true)
            .decorations(false)
            .always_on_top(true)
            .resizable(false)
            .closable(false)
            .minimizable(false)
            .maximizable(false)
            .skip_taskbar(true)
            .devtools(false);
    }
    let window = builder.build()?;
    if kiosk {
        // Without a window manager (an X session running only Doorstep) nobody honours the
        // fullscreen request: cover the monitor ourselves. With one, this changes nothing.
        if let Some(monitor) = window.current_monitor()?.or(window.primary_monitor()?) {
            window.set_position(*monitor.position())?;
            window.set_size(*monitor.size())?;
        }
    }
    Ok(window)
}

/// The app's own pages: the bundled UI (`tauri://localhost` on Linux and macOS,
/// `http(s)://tauri.localhost` on Windows) or, in development, the Vite server.
fn is_app_page(url: &url::Url) -> bool {
    match (url.scheme(), url.host_str()) {
        ("tauri", Some("localhost")) => true,
        ("http" | "https", Some("tauri.localhost")) => true,
        ("http", Some("localhost")) => cfg!(dev) && url.port() == Some(5173),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_process_is_told_from_an_ended_one() {
        assert!(process_running(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Ended but not reaped: a zombie does not count as running.
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(!process_running(pid));
        child.wait().unwrap();
        assert!(!process_running(pid));
    }

    #[test]
    fn only_the_apps_own_pages_may_be_shown() {
        for ok in [
            "tauri://localhost/",
            "tauri://localhost/index.html#x",
            "http://tauri.localhost/",
        ] {
            assert!(is_app_page(&url::Url::parse(ok).unwrap()), "{ok}");
        }
        for bad in [
            "https://example.org/",
            "file:///etc/passwd",
            "tauri://evil/",
            "data:text/html,hi",
            "about:blank",
        ] {
            assert!(!is_app_page(&url::Url::parse(bad).unwrap()), "{bad}");
        }
    }

    #[test]
    fn one_instance_per_data_folder() {
        let dir = tempfile_dir("lock");
        let first = InstanceLock::take(&dir).unwrap();
        assert!(first.is_some());
        assert!(
            InstanceLock::take(&dir).unwrap().is_none(),
            "a second holder is refused"
        );
        drop(first);
        assert!(
            InstanceLock::take(&dir).unwrap().is_some(),
            "free again once the first ends"
        );
        let a = instance_id("org.doorstep.client", Path::new("/a"));
        assert_eq!(a, instance_id("org.doorstep.client", Path::new("/a")));
        assert_ne!(a, instance_id("org.doorstep.client", Path::new("/b")));
        std::fs::remove_dir_all(dir).ok();
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("doorstep-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
