//! Opening the authorization URL in the person's browser (RFC 8252 §4: the system browser,
//! never an embedded web view, so the app never sees the password and the person sees the
//! provider's real address bar).

use std::process::{Command, Stdio};

use url::Url;

/// Shows the provider's sign-in page to the person. `open` returns once the page is on its way;
/// the answer comes back through the loopback listener, not through this call.
pub trait BrowserOpener: Send + Sync {
    fn open(&self, url: &Url) -> Result<(), String>;
}

/// The operating system's default browser: `xdg-open` (Linux, BSD), `open` (macOS),
/// `rundll32 url.dll,FileProtocolHandler` (Windows, which unlike `cmd /c start` needs no shell
/// quoting of the `&` in the URL). The URL is passed as one argument, never through a shell.
pub struct SystemBrowser;

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        let mut command = if cfg!(target_os = "windows") {
            let mut c = Command::new("rundll32");
            c.arg("url.dll,FileProtocolHandler");
            c
        } else if cfg!(target_os = "macos") {
            Command::new("open")
        } else {
            Command::new("xdg-open")
        };
        let program = format!("{:?}", command.get_program());
        command
            .arg(url.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(|mut child| {
                // Reap it so no zombie process is left behind.
                std::thread::spawn(move || child.wait());
            })
            .map_err(|e| format!("cannot run {program}: {e}"))
    }
}
