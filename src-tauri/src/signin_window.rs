//! Where the identity provider's sign-in page is shown.
//!
//! Personal and agent devices use the system browser (RFC 8252). A kiosk has no usable system
//! browser and must not keep anyone's cookies, so the page opens in an app window whose web
//! view is **incognito** (an ephemeral data store: cookies, local storage and cache live in
//! memory and die with the window). The window is destroyed as soon as the sign-in ends, so the
//! next person starts with a clean provider session. It loads only the provider's pages and has
//! no IPC access (capabilities grant commands to the `main` window only).

use doorstep_client::app::{AppConfig, DeviceMode};
use doorstep_client::signin::{BrowserOpener, CommandBrowser, SystemBrowser};
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};
use url::Url;

/// Label of the kiosk sign-in window.
pub const LABEL: &str = "signin";

/// The browser for this installation: a configured command first (kiosk images, tests), then
/// the kiosk window, then the system browser.
pub fn browser_for(app: &AppHandle, config: &AppConfig) -> Box<dyn BrowserOpener> {
    if let Some(browser) = config
        .browser_command
        .as_deref()
        .and_then(CommandBrowser::new)
    {
        return Box::new(browser);
    }
    if config.mode == DeviceMode::Kiosk {
        return Box::new(KioskWindow { app: app.clone() });
    }
    Box::new(SystemBrowser)
}

/// Close the kiosk sign-in window, if one is open (after success, failure or timeout alike).
pub fn close(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(LABEL) {
        let _ = window.destroy();
    }
}

struct KioskWindow {
    app: AppHandle,
}

impl BrowserOpener for KioskWindow {
    fn open(&self, url: &Url) -> Result<(), String> {
        close(&self.app);
        WebviewWindowBuilder::new(&self.app, LABEL, WebviewUrl::External(url.clone()))
            .title("Sign in")
            .inner_size(900.0, 700.0)
            .center()
            .incognito(true)
            // Above the kiosk's main window, which is itself always on top; no developer tools.
            .always_on_top(true)
            .devtools(false)
            .build()
            .map(|_| ())
            .map_err(|e| format!("cannot open the sign-in window: {e}"))
    }
}
