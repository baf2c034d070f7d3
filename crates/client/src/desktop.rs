//! Desktop alerts through the system's notification service (the freedesktop D-Bus API on
//! Linux, via `notify-rust`): the [`AlertSink`] the shell gives the app core. Clicking an alert
//! (the service's `ActionInvoked` with the default action) calls `on_open` with its screen; the
//! shell then raises the window there.
//!
//! Each alert is sent from a thread of its own (the D-Bus call blocks), which then waits for
//! the click or the close. A service that never closes its notifications (some keep them in a
//! tray) would keep those threads: at most [`MAX_WAITING`] wait; alerts beyond that are shown
//! without a click action.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use notify_rust::{Notification, Timeout};

use crate::app::{Alert, AlertSink, Screen};

/// Alerts whose click is waited for at once.
pub const MAX_WAITING: usize = 8;
/// How long an alert stays up where the service honours it.
const SHOWN_FOR_MS: u32 = 30_000;
/// The action a click on the alert's body invokes (the freedesktop spec's name).
const DEFAULT_ACTION: &str = "default";

/// Sends alerts to the desktop's notification service.
pub struct DesktopNotifier {
    app_name: String,
    icon: String,
    on_open: Arc<dyn Fn(Screen) + Send + Sync>,
    waiting: Arc<AtomicUsize>,
}

impl DesktopNotifier {
    /// `app_name`/`icon`: as the desktop shows them (the icon: a theme name or a file path).
    pub fn new(
        app_name: impl Into<String>,
        icon: impl Into<String>,
        on_open: impl Fn(Screen) + Send + Sync + 'static,
    ) -> DesktopNotifier {
        DesktopNotifier {
            app_name: app_name.into(),
            icon: icon.into(),
            on_open: Arc::new(on_open),
            waiting: Arc::default(),
        }
    }
}

impl AlertSink for DesktopNotifier {
    fn show(&self, alert: Alert) {
        let mut note = Notification::new();
        note.appname(&self.app_name)
            .summary(&alert.title)
            // Services may read the body as markup: the registry's words are text.
            .body(&escape_markup(&alert.body))
            .icon(&self.icon)
            .action(DEFAULT_ACTION, "Open")
            .timeout(Timeout::Milliseconds(SHOWN_FOR_MS));
        let on_open = self.on_open.clone();
        let waiting = self.waiting.clone();
        let screen = alert.opens;
        let spawned = std::thread::Builder::new()
            .name("doorstep-alert".into())
            .spawn(move || {
                let handle = match note.show() {
                    Ok(handle) => handle,
                    Err(e) => {
                        // No notification service (a bare session): nothing to show it on.
                        tracing::warn!(error = %e, "cannot show a desktop alert");
                        return;
                    }
                };
                if waiting.fetch_add(1, Ordering::SeqCst) < MAX_WAITING {
                    handle.wait_for_action(|action| {
                        if action == DEFAULT_ACTION {
                            on_open(screen);
                        }
                    });
                }
                waiting.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start a thread for a desktop alert");
        }
    }
}

/// `&`, `<` and `>` as entities: the body's words shown as written, never as markup.
fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_never_markup() {
        assert_eq!(
            escape_markup("<b>Tom & Jerry</b>"),
            "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"
        );
    }
}
