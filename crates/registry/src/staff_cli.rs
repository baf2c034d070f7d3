//! `doorstep-registry admin grant | revoke | list`: the staff directory from the server's own
//! command line. This is how the first administrator is made (nobody can use the API's admin
//! routes before one exists); afterwards admins use the app. It writes the same database as the
//! server (SQLite or PostgreSQL, from the same settings), through the same checks and with the
//! same history rows, as `cli:<operating-system user>`.

use doorstep_domain::api::{StaffEntry, StaffGrant, StaffRole};

use crate::api::staff::{check_grant, new_entry};
use crate::auth::Authenticator;
use crate::config::Config;
use crate::storage::{StaffWrite, Store};

/// What the operator asked for.
#[derive(Debug, Clone)]
pub enum AdminAction {
    Grant(StaffGrant),
    /// Revoke by entry id, or the live entry of an identity.
    Revoke(RevokeTarget),
    List {
        include_revoked: bool,
    },
}

#[derive(Debug, Clone)]
pub enum RevokeTarget {
    Id(uuid::Uuid),
    Identity {
        issuer: String,
        subject: Option<String>,
        email: Option<String>,
    },
}

/// Run one action against the configured database; the text to print, or why nothing was done.
pub async fn run(config: &Config, action: AdminAction) -> Result<String, String> {
    // Only to know which issuers are trusted and what each may grant: no key is fetched.
    let auth = Authenticator::new(&config.auth, config.dev_auth.then_some(&*config.data_dir))
        .map_err(|e| e.to_string())?;
    let store = crate::storage::open(&config.data_dir, &config.database)
        .await
        .map_err(|e| e.to_string())?;
    let result = act(store.as_ref(), &auth, action).await;
    store.close().await;
    result
}

async fn act(
    store: &dyn Store,
    auth: &Authenticator,
    action: AdminAction,
) -> Result<String, String> {
    let actor = operator();
    let write = match action {
        AdminAction::List { include_revoked } => return list(store, include_revoked).await,
        AdminAction::Grant(grant) => StaffWrite::Grant(new_entry(check_grant(auth, grant)?, actor)),
        AdminAction::Revoke(target) => {
            let id = match target {
                RevokeTarget::Id(id) => id,
                RevokeTarget::Identity {
                    issuer,
                    subject,
                    email,
                } => live_entry(store, &issuer, subject, email).await?.id,
            };
            StaffWrite::Revoke {
                id,
                by: actor,
                at: doorstep_domain::timestamp::format(time::OffsetDateTime::now_utc()),
            }
        }
    };
    let entry = store
        .staff_write(write)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|refusal| refusal.to_string())?;
    tracing::warn!(entry = %entry.id, role = %entry.role, by = %entry.revoked_by.as_ref().unwrap_or(&entry.granted_by), "staff directory changed from the command line");
    Ok(line(&entry))
}

/// The live entry for an identity named on the command line.
async fn live_entry(
    store: &dyn Store,
    issuer: &str,
    subject: Option<String>,
    email: Option<String>,
) -> Result<StaffEntry, String> {
    let found = match (subject, email) {
        (Some(subject), None) => store.staff_live(issuer, &subject, None).await,
        // No subject can be "": the directory never stores an empty one.
        (None, Some(email)) => {
            store
                .staff_live(issuer, "", Some(&email.to_lowercase()))
                .await
        }
        _ => return Err("give exactly one of --subject and --email (or --id)".into()),
    };
    found.map_err(|e| e.to_string())?.ok_or_else(|| {
        "no live staff directory entry for this identity; `admin list` shows them".into()
    })
}

async fn list(store: &dyn Store, include_revoked: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut after = None;
    loop {
        let page = store
            .staff_list(after, 500, include_revoked)
            .await
            .map_err(|e| e.to_string())?;
        for entry in &page {
            out.push_str(&line(entry));
            out.push('\n');
        }
        match page.last() {
            Some(last) if page.len() == 500 => after = Some(last.id),
            _ => break,
        }
    }
    if out.is_empty() {
        out.push_str("the staff directory is empty; `doorstep-registry admin grant` adds the first administrator\n");
    }
    Ok(out.trim_end().to_owned())
}

/// One entry on one line: id, role, areas, identity, state.
fn line(entry: &StaffEntry) -> String {
    let who = match (&entry.subject, &entry.email) {
        (Some(subject), _) => format!("subject {subject}"),
        (None, Some(email)) => format!("email {email}"),
        (None, None) => "?".into(),
    };
    let areas = if entry.areas.is_empty() {
        match entry.role {
            StaffRole::Admin | StaffRole::Staff => "all areas".to_owned(),
            StaffRole::Agent => "no area".to_owned(),
        }
    } else {
        entry.areas.join(",")
    };
    let state = match (&entry.revoked_at, &entry.revoked_by) {
        (Some(at), Some(by)) => format!("revoked {at} by {by}"),
        _ => format!("granted {} by {}", entry.granted_at, entry.granted_by),
    };
    format!(
        "{}  {}  {}  {} at {}  {}",
        entry.id, entry.role, areas, who, entry.issuer, state
    )
}

/// `cli:<user>`: who ran the command, as the history records it.
fn operator() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty() && !u.chars().any(char::is_control))
        .unwrap_or_else(|| "operator".into());
    format!("cli:{user}")
}
