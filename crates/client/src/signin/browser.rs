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

/// A program chosen by configuration (like `$BROWSER`): `command` is split on whitespace into
/// the program and its first arguments, and the URL is added as the last argument. Kiosk images
/// use it for a locked-down browser; tests for a headless one.
pub struct CommandBrowser {
    program: String,
    args: Vec<String>,
}

impl CommandBrowser {
    /// `None` for an empty command.
    pub fn new(command: &str) -> Option<Self> {
        let mut words = command.split_whitespace().map(str::to_owned);
        let program = words.next()?;
        Some(CommandBrowser {
            program,
            args: words.collect(),
        })
    }
}

impl BrowserOpener for CommandBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        Command::new(&self.program)
            .args(&self.args)
            .arg(url.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map(|mut child| {
                std::thread::spawn(move || child.wait());
            })
            .map_err(|e| format!("cannot run {}: {e}", self.program))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_command_gets_the_url_as_its_last_argument() {
        let dir = std::env::temp_dir().join(format!("doorstep-browser-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("url.txt");
        let script = dir.join("open.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"$1\" > {}\n", out.display()),
        )
        .unwrap();
        let browser = CommandBrowser::new(&format!("sh {}", script.display())).unwrap();
        let url = Url::parse("http://127.0.0.1:1/authorize?state=a&nonce=b").unwrap();
        browser.open(&url).unwrap();
        for _ in 0..100 {
            if std::fs::read_to_string(&out).is_ok_and(|t| t.trim() == url.as_str()) {
                std::fs::remove_dir_all(&dir).ok();
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the command did not receive the URL");
    }

    #[test]
    fn an_empty_command_is_no_browser_and_a_missing_program_is_named() {
        assert!(CommandBrowser::new("  ").is_none());
        let err = CommandBrowser::new("/nonexistent/browser")
            .unwrap()
            .open(&Url::parse("http://127.0.0.1/").unwrap())
            .unwrap_err();
        assert!(err.contains("/nonexistent/browser"), "{err}");
    }
}
