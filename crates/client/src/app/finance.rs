//! The person's payment details: bank accounts and mobile wallets, and which one payments go to.
//!
//! The domain's rules apply before anything reaches the vault (IBAN check digits, E.164 wallet
//! numbers, e-mail wallets); "at most one preferred account" is kept by changing the accounts
//! together in one vault transaction, so the registry never sees two preferred accounts.

use doorstep_domain::finance::{AccountKind, FinancialAccount, VerificationStatus};
use doorstep_domain::ids::{ActorId, RecordId};
use doorstep_domain::record::{RecordKind, RecordMeta};
use doorstep_domain::validate::normalize_phone_number;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::details::find_me;
use super::refusal::refused;
use super::who::Who;
use super::AppError;
use crate::vault::{Change, Op, Partition};

/// One account as the payment screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub id: String,
    pub kind: AccountKind,
    pub provider_code: String,
    pub account_number: String,
    pub holder_name: String,
    pub verification: VerificationStatus,
    /// Why the office could not verify it, in their words (a failed account only).
    pub failure_reason: Option<String>,
    pub preferred: bool,
}

/// A new account, as the form sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AccountInput {
    pub kind: AccountKind,
    pub provider_code: String,
    pub account_number: String,
    pub holder_name: String,
    /// Pay into this account (the others stop being preferred).
    pub preferred: bool,
}

fn live_accounts(
    partition: &Partition,
    owner: RecordId,
) -> Result<Vec<FinancialAccount>, AppError> {
    let mut out = Vec::new();
    for stored in partition.records(RecordKind::FinancialAccount.as_str())? {
        if stored.deleted_at.is_some() {
            continue;
        }
        if let Ok(account) = serde_json::from_value::<FinancialAccount>(stored.body) {
            if account.registrant_id == owner {
                out.push(account);
            }
        }
    }
    out.sort_by_key(|a| a.meta.created_at);
    Ok(out)
}

fn owner(partition: &Partition, session: Who<'_>) -> Result<RecordId, AppError> {
    find_me(partition, session)?
        .map(|me| me.meta.id)
        .ok_or_else(|| {
            refused(
                "registerFirst",
                "Register your details first; payment details belong to your registration.",
            )
        })
}

fn actor(session: Who<'_>) -> String {
    session
        .identity()
        .map(|i| i.subject.clone())
        .unwrap_or_else(|| "device".into())
}

pub fn accounts(partition: &Partition, session: Who<'_>) -> Result<Vec<AccountView>, AppError> {
    let Some(me) = find_me(partition, session)? else {
        return Ok(Vec::new());
    };
    Ok(live_accounts(partition, me.meta.id)?
        .into_iter()
        .map(|a| AccountView {
            id: a.meta.id.as_uuid().to_string(),
            kind: a.kind,
            provider_code: a.provider_code,
            account_number: a.account_number,
            holder_name: a.holder_name,
            verification: a.verification_status,
            failure_reason: (a.verification_status == VerificationStatus::Failed)
                .then(|| a.review.as_ref().and_then(|r| r.reason.clone()))
                .flatten(),
            preferred: a.preferred_for_payments,
        })
        .collect())
}

/// Changes that make `chosen` the only preferred account (no change for accounts already right).
fn prefer_only(
    accounts: &[FinancialAccount],
    chosen: Option<RecordId>,
    actor: &str,
    now: OffsetDateTime,
) -> Result<Vec<Change>, AppError> {
    let mut changes = Vec::new();
    // Un-prefer first, so even applied one by one the registry never sees two preferred.
    for a in accounts
        .iter()
        .filter(|a| a.preferred_for_payments && Some(a.meta.id) != chosen)
    {
        let mut a = a.clone();
        a.preferred_for_payments = false;
        a.meta.touch(now);
        changes.push(Change::of(&a, Op::Update, actor)?);
    }
    if let Some(id) = chosen {
        if let Some(a) = accounts
            .iter()
            .find(|a| a.meta.id == id && !a.preferred_for_payments)
        {
            let mut a = a.clone();
            a.preferred_for_payments = true;
            a.meta.touch(now);
            changes.push(Change::of(&a, Op::Update, actor)?);
        }
    }
    Ok(changes)
}

pub fn add(partition: &Partition, session: Who<'_>, input: &AccountInput) -> Result<(), AppError> {
    let me = owner(partition, session)?;
    let actor = actor(session);
    let now = OffsetDateTime::now_utc();
    let number = input.account_number.trim();
    let account_number = match input.kind {
        // Wallets are addressed by phone: accept what people type, store E.164.
        AccountKind::MobileWallet => normalize_phone_number(number, None).ok_or_else(|| {
            refused("walletFormat", "Write the wallet's phone number with + and the country code, for example +254712345678.")
        })?,
        // IBANs are stored in electronic form (no spaces, upper case).
        AccountKind::BankAccount => number.replace(' ', "").to_uppercase(),
        AccountKind::EmailWallet => number.to_owned(),
    };
    let existing = live_accounts(partition, me)?;
    let mut account = FinancialAccount {
        meta: RecordMeta::new(
            RecordId::from_uuid(Uuid::now_v7()),
            now,
            ActorId::new(actor.clone()),
        ),
        registrant_id: me,
        kind: input.kind,
        provider_code: input.provider_code.trim().to_owned(),
        account_number,
        holder_name: input.holder_name.trim().to_owned(),
        verification_status: VerificationStatus::Unverified,
        // The first account is where payments go unless the person says otherwise.
        preferred_for_payments: input.preferred || existing.is_empty(),
        review: None,
    };
    if existing
        .iter()
        .any(|a| a.kind == account.kind && a.account_number == account.account_number)
    {
        return Err(refused(
            "accountDuplicate",
            "This account is already in your payment details.",
        ));
    }
    let mut changes = Vec::new();
    if account.preferred_for_payments {
        changes.extend(prefer_only(&existing, None, &actor, now)?);
    }
    account.meta.touch(now);
    changes.push(Change::of(&account, Op::Create, &actor)?);
    partition.apply_batch(&changes)?;
    Ok(())
}

pub fn set_preferred(partition: &Partition, session: Who<'_>, id: Uuid) -> Result<(), AppError> {
    let me = owner(partition, session)?;
    let accounts = live_accounts(partition, me)?;
    let chosen = RecordId::from_uuid(id);
    if !accounts.iter().any(|a| a.meta.id == chosen) {
        return Err(refused(
            "accountUnknown",
            "That account is not in your payment details.",
        ));
    }
    let changes = prefer_only(
        &accounts,
        Some(chosen),
        &actor(session),
        OffsetDateTime::now_utc(),
    )?;
    if !changes.is_empty() {
        partition.apply_batch(&changes)?;
    }
    Ok(())
}

pub fn remove(partition: &Partition, session: Who<'_>, id: Uuid) -> Result<(), AppError> {
    let me = owner(partition, session)?;
    let accounts = live_accounts(partition, me)?;
    let target = accounts
        .iter()
        .find(|a| *a.meta.id.as_uuid() == id)
        .ok_or_else(|| {
            refused(
                "accountUnknown",
                "That account is not in your payment details.",
            )
        })?;
    if target.preferred_for_payments && accounts.len() > 1 {
        return Err(refused("accountPreferred", "Payments go to this account. Choose another account for payments first, then remove this one."));
    }
    let change = Change::of(target, Op::Delete, &actor(session))?;
    partition.apply_batch(&[change])?;
    Ok(())
}
