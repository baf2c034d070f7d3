//! Development sign-in: tokens the registry signs for itself, for demos and tests without an
//! identity provider.
//!
//! `doorstep-registry serve --dev-auth` trusts, in addition to any configured provider, ES256
//! tokens signed by a key kept in the data directory (`dev-auth/signing-key.pem`), with issuer
//! [`DEV_ISSUER`] and audience [`DEV_AUDIENCE`]. `doorstep-registry dev-token` mints them. Whoever
//! can read that key can act as anyone, admin included, so the key is owner-only and the server
//! warns loudly when dev sign-in is on. Never enable it on a registry holding real data.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use p256::SecretKey;

use super::{AuthError, Role};

/// The `iss` of development tokens. Not a URL, so it can never collide with a real provider.
pub const DEV_ISSUER: &str = "doorstep-dev-auth";
/// The `aud` of development tokens.
pub const DEV_AUDIENCE: &str = "doorstep-registry";
/// The `kid` development tokens carry.
pub const DEV_KID: &str = "doorstep-dev-auth";

/// Where the development signing key of a data directory lives.
pub fn dev_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("dev-auth").join("signing-key.pem")
}

/// Mint a development token for `subject` with `role`, valid for `ttl`, signed with the data
/// directory's development key (created on first use). The claims use the default claim names
/// (`roles`, `area`, `individual_id`), which is what dev-mode verification reads.
pub fn dev_token(
    data_dir: &Path,
    role: Role,
    subject: &str,
    area: Option<&str>,
    individual_id: Option<&str>,
    ttl: Duration,
) -> Result<String, AuthError> {
    if subject.trim().is_empty() {
        return Err(AuthError::Dev("the subject must not be empty".into()));
    }
    if role == Role::Agent && area.is_none_or(|a| a.trim().is_empty()) {
        return Err(AuthError::Dev(
            "an agent token needs an area (--area <code>): agents are always assigned to one"
                .into(),
        ));
    }
    let key = load_or_create_key(data_dir)?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| AuthError::Dev(format!("cannot encode the signing key: {e}")))?;
    let encoding = EncodingKey::from_ec_pem(pem.as_bytes())
        .map_err(|e| AuthError::Dev(format!("cannot use the signing key: {e}")))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut claims = serde_json::json!({
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl.as_secs(),
        "roles": [role.as_str()],
    });
    if role == Role::Agent {
        claims["area"] = area.into();
    }
    if let Some(id) = individual_id {
        claims["individual_id"] = id.into();
    }
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(DEV_KID.into());
    jsonwebtoken::encode(&header, &claims, &encoding)
        .map_err(|e| AuthError::Dev(format!("cannot sign the token: {e}")))
}

/// The verification key for development tokens of this data directory (creating the key pair
/// on first use, so `serve --dev-auth` and `dev-token` can be run in either order).
pub(crate) fn dev_decoding_key(data_dir: &Path) -> Result<DecodingKey, AuthError> {
    let public = load_or_create_key(data_dir)?
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| AuthError::Dev(format!("cannot encode the public key: {e}")))?;
    DecodingKey::from_ec_pem(public.as_bytes())
        .map_err(|e| AuthError::Dev(format!("cannot use the public key: {e}")))
}

fn load_or_create_key(data_dir: &Path) -> Result<SecretKey, AuthError> {
    let path = dev_key_path(data_dir);
    if !path.exists() {
        create_key(&path)?;
    }
    check_private(&path)?;
    let pem = std::fs::read_to_string(&path)
        .map_err(|e| AuthError::Dev(format!("cannot read {}: {e}", path.display())))?;
    SecretKey::from_pkcs8_pem(&pem).map_err(|e| {
        AuthError::Dev(format!(
            "{} is not a PKCS#8 P-256 private key ({e}); delete it to have a new one created",
            path.display()
        ))
    })
}

/// Write a fresh key so that no reader ever sees a partial file and two processes starting at
/// once agree on one key: write a private temporary file, then hard-link it into place, which
/// fails if another process got there first.
fn create_key(path: &Path) -> Result<(), AuthError> {
    let dir = path.parent().expect("key path has a directory");
    let io = |what: &str, p: &Path, e: std::io::Error| {
        AuthError::Dev(format!("cannot {what} {}: {e}", p.display()))
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| io("create directory", dir, e))?;

    let key = random_key()?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| AuthError::Dev(format!("cannot encode a new key: {e}")))?;
    let tmp = dir.join(format!(".signing-key.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&tmp)
        .and_then(|mut f| f.write_all(pem.as_bytes()).and_then(|()| f.sync_all()));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("write", &tmp, e));
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "created a development sign-in key");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io("create", path, e)),
    }
}

/// Anyone who can read the key can sign in as admin: refuse a key others can read.
fn check_private(path: &Path) -> Result<(), AuthError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| AuthError::Dev(format!("cannot read {}: {e}", path.display())))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(AuthError::Dev(format!(
                "{} is readable by other users (mode {mode:o}); run `chmod 600` on it or delete it",
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn random_key() -> Result<SecretKey, AuthError> {
    // Almost every 32-byte string is a valid scalar; retry the astronomically rare others.
    loop {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::getrandom(bytes.as_mut())
            .map_err(|e| AuthError::Dev(format!("no randomness for a new key: {e}")))?;
        if let Ok(key) = SecretKey::from_slice(bytes.as_ref()) {
            return Ok(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let first = load_or_create_key(&data).unwrap();
        let again = load_or_create_key(&data).unwrap();
        assert_eq!(first.to_bytes(), again.to_bytes(), "the key is kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dev_key_path(&data)), 0o600);
            assert_eq!(mode(&data.join("dev-auth")), 0o700);
            assert_eq!(
                std::fs::read_dir(data.join("dev-auth")).unwrap().count(),
                1,
                "no temporary file left behind"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_key_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create_key(dir.path()).unwrap();
        let path = dev_key_path(dir.path());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create_key(dir.path()).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn agent_tokens_need_an_area() {
        let dir = tempfile::tempdir().unwrap();
        let err = dev_token(
            dir.path(),
            Role::Agent,
            "a",
            None,
            None,
            Duration::from_secs(60),
        )
        .unwrap_err();
        assert!(err.to_string().contains("--area"), "{err}");
    }
}
