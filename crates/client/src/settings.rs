//! Where the app keeps its data and which registry it talks to.
//!
//! The shell decides the platform data directory; environment variables let an operator (or a
//! test) point the app elsewhere without rebuilding it.

use std::path::PathBuf;

use url::Url;

/// Registry the app talks to when nothing else is configured: the local demo server that the
/// README's run command starts.
pub const DEFAULT_REGISTRY_URL: &str = "http://127.0.0.1:8700";
/// Overrides the registry URL.
pub const ENV_REGISTRY_URL: &str = "DOORSTEP_REGISTRY_URL";
/// Overrides the data directory.
pub const ENV_DATA_DIR: &str = "DOORSTEP_DATA_DIR";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("registry address {value:?} is not a valid URL: {reason}")]
    InvalidRegistryUrl { value: String, reason: String },
    #[error(
        "registry address {0:?} must use https (plain http is allowed only for this computer: localhost or 127.0.0.1)"
    )]
    InsecureRegistryUrl(String),
}

/// The app's resolved settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub registry_url: Url,
}

impl Settings {
    /// Resolve settings from the environment, falling back to `default_data_dir` (the platform's
    /// app data folder, chosen by the shell) and [`DEFAULT_REGISTRY_URL`].
    pub fn from_env(default_data_dir: PathBuf) -> Result<Self, SettingsError> {
        Self::resolve(
            default_data_dir,
            std::env::var_os(ENV_DATA_DIR).map(PathBuf::from),
            std::env::var(ENV_REGISTRY_URL).ok(),
        )
    }

    /// Pure form of [`Settings::from_env`], for tests.
    pub fn resolve(
        default_data_dir: PathBuf,
        data_dir: Option<PathBuf>,
        registry_url: Option<String>,
    ) -> Result<Self, SettingsError> {
        let data_dir = data_dir
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(default_data_dir);
        let registry_url = parse_registry_url(
            registry_url
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or(DEFAULT_REGISTRY_URL),
        )?;
        Ok(Settings {
            data_dir,
            registry_url,
        })
    }
}

/// Parse and check a registry address. Personal data travels to it, so anything but this
/// computer must be reached over TLS.
pub fn parse_registry_url(value: &str) -> Result<Url, SettingsError> {
    let value = value.trim();
    let url = Url::parse(value).map_err(|e| SettingsError::InvalidRegistryUrl {
        value: value.to_owned(),
        reason: e.to_string(),
    })?;
    let local = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        "http" => return Err(SettingsError::InsecureRegistryUrl(value.to_owned())),
        other => {
            return Err(SettingsError::InvalidRegistryUrl {
                value: value.to_owned(),
                reason: format!("unsupported scheme {other:?}; use https://"),
            })
        }
    }
    if url.host().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(SettingsError::InvalidRegistryUrl {
            value: value.to_owned(),
            reason: "expected a plain address like https://registry.example.org".into(),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let s = Settings::resolve("/d".into(), None, None).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/d"));
        assert_eq!(s.registry_url.as_str(), "http://127.0.0.1:8700/");
    }

    #[test]
    fn overrides_win_and_blanks_are_ignored() {
        let s = Settings::resolve(
            "/d".into(),
            Some("/e".into()),
            Some("https://reg.example.org".into()),
        )
        .unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/e"));
        assert_eq!(s.registry_url.host_str(), Some("reg.example.org"));
        let s = Settings::resolve("/d".into(), Some("".into()), Some("  ".into())).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/d"));
        assert_eq!(s.registry_url.as_str(), "http://127.0.0.1:8700/");
    }

    #[test]
    fn plain_http_only_to_this_computer() {
        for ok in [
            "http://localhost:8700",
            "http://127.0.0.1:1",
            "http://[::1]:8700",
            "https://r.example.org",
        ] {
            parse_registry_url(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let err = parse_registry_url("http://registry.example.org").unwrap_err();
        assert!(matches!(err, SettingsError::InsecureRegistryUrl(_)));
        assert!(err.to_string().contains("https"));
    }

    #[test]
    fn garbage_is_rejected_with_reason() {
        for bad in [
            "not a url",
            "ftp://x.org",
            "https://x.org/?q=1",
            "file:///etc/passwd",
        ] {
            let err = parse_registry_url(bad).unwrap_err();
            assert!(
                matches!(err, SettingsError::InvalidRegistryUrl { .. }),
                "{bad}: {err}"
            );
        }
    }
}
