//! The webcam, for photographing documents (Linux: WebKitGTK).
//!
//! WebKitGTK ships with media capture off and answers every permission request "no", so the
//! documents screen would never see a camera. The main window turns capture on and grants
//! **video only**: the app never records sound, and a request that includes the microphone (or
//! the screen) is refused. The page asking is always the app's own bundle (the CSP allows no
//! other), so there is no site to ask the person about.

/// Set to any value to give WebKit a mock camera (a test pattern): lets the end-to-end tests
/// take a real photo through the real capture path on a machine without a camera.
pub const ENV_MOCK_CAMERA: &str = "DOORSTEP_TEST_MOCK_CAMERA";

#[cfg(target_os = "linux")]
pub fn allow_video_capture(window: &tauri::WebviewWindow) {
    let mock = std::env::var_os(ENV_MOCK_CAMERA).is_some();
    let configured = window.with_webview(move |webview| {
        use webkit2gtk::glib::prelude::Cast;
        use webkit2gtk::{
            PermissionRequestExt, SettingsExt, UserMediaPermissionRequest,
            UserMediaPermissionRequestExt, WebViewExt,
        };
        let view = webview.inner();
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_media_stream(true);
            settings.set_enable_mock_capture_devices(mock);
        }
        view.connect_permission_request(|_, request| {
            let Some(media) = request.downcast_ref::<UserMediaPermissionRequest>() else {
                return false; // not ours to decide: WebKit's default (deny)
            };
            if media.is_for_video_device() && !media.is_for_audio_device() {
                request.allow();
            } else {
                request.deny();
            }
            true
        });
    });
    if let Err(e) = configured {
        tracing::warn!(error = %e, "the camera cannot be offered in this window");
    }
}

/// Other platforms' web views ask the person themselves.
#[cfg(not(target_os = "linux"))]
pub fn allow_video_capture(_window: &tauri::WebviewWindow) {}
