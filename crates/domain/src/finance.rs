//! Where a registrant's payments go: a bank account or a mobile/e-mail wallet.
//!
//! Follows the three financial address kinds of the G2P Connect mapper that OpenG2P's SPAR
//! implements (bank account, mobile wallet, email wallet, each with a provider code). Bank
//! accounts in countries that use IBANs are held to the IBAN rules, because a payment to a
//! mistyped account is slow and costly to recover.

use serde::{Deserialize, Serialize};

use crate::ids::RecordId;
use crate::record::{impl_record, RecordKind, RecordMeta};
use crate::validate::iban::{looks_like_iban, MAX_IBAN_LEN};
use crate::validate::text::{required_line, MAX_CODE_CHARS};
use crate::validate::{
    code, indexed, is_e164, is_valid_bic, is_valid_code, is_valid_email, validate_iban, IbanError,
    Validate, ValidationErrors,
};

/// Longest account holder name (twice the 70 characters SEPA transfers carry, for names that
/// are shortened only when a payment file is built).
pub const MAX_HOLDER_NAME_CHARS: usize = 140;
/// Longest national bank code accepted (sort codes, routing numbers, bank ids).
pub const MAX_BANK_CODE_CHARS: usize = 20;

/// An account a registrant can be paid into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FinancialAccount {
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// The registrant (normally an individual) who owns the account.
    pub registrant_id: RecordId,
    pub kind: AccountKind,
    /// For a bank account its BIC or national bank code (`KCBLKENX`, `01-234`); for a wallet,
    /// the provider's code in the deployment (`mpesa`, `mtn_momo`).
    pub provider_code: String,
    /// For a bank account the IBAN (electronic form) or national account number; for a mobile
    /// wallet its phone number in E.164 form; for an e-mail wallet its e-mail address.
    pub account_number: String,
    /// Name on the account, to be compared with the registrant's name before paying.
    pub holder_name: String,
    #[serde(default)]
    pub verification_status: VerificationStatus,
    /// Pay into this account when the registrant has several; at most one per registrant.
    #[serde(default)]
    pub preferred_for_payments: bool,
    /// The reviewer's decision behind `verified` or `failed` (who, when, why it failed), set
    /// only through the registry's review desk; absent while unverified, and on accounts
    /// verified before decisions were kept.
    #[serde(default)]
    pub review: Option<crate::review::Review>,
}

impl_record!(FinancialAccount, RecordKind::FinancialAccount);

impl FinancialAccount {
    /// Whether the account number is an IBAN (and so carries check digits).
    pub fn is_iban(&self) -> bool {
        self.kind == AccountKind::BankAccount && looks_like_iban(&self.account_number)
    }

    fn validate_bank_account(&self, errors: &mut ValidationErrors) {
        if !is_valid_bank_code(&self.provider_code) {
            errors.push(
                "provider_code",
                code::INVALID_FORMAT,
                format!(
                    "Enter the bank's BIC (for example KCBLKENX) or its national bank code, in \
                     capital letters and digits (at most {MAX_BANK_CODE_CHARS})."
                ),
            );
        }
        let number = &self.account_number;
        if looks_like_iban(number) {
            match validate_iban(number) {
                Ok(()) => {}
                Err(IbanError::BadChecksum) => errors.push(
                    "account_number",
                    code::INVALID_CHECKSUM,
                    "This IBAN does not add up: a character is probably mistyped. Copy it again from a bank statement or card.",
                ),
                Err(IbanError::WrongLength { expected, actual }) => errors.push(
                    "account_number",
                    code::INVALID_FORMAT,
                    format!("An IBAN from this country has {expected} characters; this one has {actual}. Check for a missing or extra character."),
                ),
                Err(IbanError::InvalidCharacters | IbanError::UnknownCountry) => errors.push(
                    "account_number",
                    code::INVALID_FORMAT,
                    "Write the IBAN with capital letters and digits only, without spaces.",
                ),
            }
        } else if !is_plain_account_number(number) {
            errors.push(
                "account_number",
                code::INVALID_FORMAT,
                format!(
                    "Write the account number with capital letters, digits and hyphens only, \
                     without spaces (at most {MAX_IBAN_LEN} characters)."
                ),
            );
        }
    }

    fn validate_wallet_provider(&self, errors: &mut ValidationErrors) {
        if !is_valid_code(&self.provider_code) {
            errors.push(
                "provider_code",
                code::INVALID_FORMAT,
                format!(
                    "Choose the wallet provider from the list (a code of lower-case letters, \
                     digits, '_', '-' or '.', at most {MAX_CODE_CHARS})."
                ),
            );
        }
    }
}

impl Validate for FinancialAccount {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());
        if self.registrant_id.is_nil() {
            errors.push(
                "registrant_id",
                code::REQUIRED,
                "Choose whose account this is.",
            );
        }
        required_line(
            &mut errors,
            "holder_name",
            "account holder's name",
            &self.holder_name,
            MAX_HOLDER_NAME_CHARS,
        );
        if self.provider_code.is_empty() {
            errors.push(
                "provider_code",
                code::REQUIRED,
                "Enter the bank or wallet provider.",
            );
        }
        if self.account_number.is_empty() {
            errors.push(
                "account_number",
                code::REQUIRED,
                "Enter the account number.",
            );
        }
        if !self.provider_code.is_empty() && !self.account_number.is_empty() {
            match self.kind {
                AccountKind::BankAccount => self.validate_bank_account(&mut errors),
                AccountKind::MobileWallet => {
                    self.validate_wallet_provider(&mut errors);
                    if !is_e164(&self.account_number) {
                        errors.push(
                            "account_number",
                            code::INVALID_FORMAT,
                            "Enter the wallet's phone number with + and the country code, for example +254712345678.",
                        );
                    }
                }
                AccountKind::EmailWallet => {
                    self.validate_wallet_provider(&mut errors);
                    if !is_valid_email(&self.account_number) {
                        errors.push(
                            "account_number",
                            code::INVALID_FORMAT,
                            "Enter the wallet's e-mail address in full, for example amina@example.org.",
                        );
                    }
                }
            }
        }
        crate::review::check_review(
            &mut errors,
            self.review.as_ref(),
            self.verification_status == VerificationStatus::Failed,
            self.verification_status == VerificationStatus::Unverified,
        );
        errors.into_result()
    }
}

/// Kind of financial address (G2P Connect `fa` types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum AccountKind {
    BankAccount,
    /// Mobile money, addressed by phone number.
    MobileWallet,
    /// A wallet addressed by e-mail address.
    EmailWallet,
}

/// How far the account has been confirmed to exist and belong to the registrant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum VerificationStatus {
    /// As given by the registrant; not checked.
    #[default]
    Unverified,
    /// A check with the bank or provider has been requested.
    Pending,
    /// The provider confirmed the account and its holder.
    Verified,
    /// The provider could not confirm it; the registrant should be asked again.
    Failed,
}

/// Whether `code` is a bank's BIC or a national bank code: upper-case letters, digits and
/// hyphens, at most [`MAX_BANK_CODE_CHARS`].
pub fn is_valid_bank_code(code: &str) -> bool {
    is_valid_bic(code)
        || (!code.is_empty()
            && code.len() <= MAX_BANK_CODE_CHARS
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
            && !code.starts_with('-'))
}

/// Whether `number` is acceptable as a national (non-IBAN) account number: up to 34 upper-case
/// letters, digits and hyphens, with at least one digit.
pub fn is_plain_account_number(number: &str) -> bool {
    !number.is_empty()
        && number.len() <= MAX_IBAN_LEN
        && number
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && number.bytes().any(|b| b.is_ascii_digit())
}

/// The account to pay `registrant_id` into: the preferred one, if exactly one is marked.
pub fn preferred_account(
    accounts: &[FinancialAccount],
    registrant_id: RecordId,
) -> Option<&FinancialAccount> {
    let mut preferred = accounts.iter().filter(|account| {
        account.registrant_id == registrant_id
            && account.preferred_for_payments
            && !account.meta.is_deleted()
    });
    match (preferred.next(), preferred.next()) {
        (Some(account), None) => Some(account),
        _ => None,
    }
}

/// Checks that no registrant has more than one (non-deleted) account preferred for payments.
/// Every preferred account after the first of the same registrant is reported, at
/// `[i].preferred_for_payments` with `i` its position in `accounts`.
pub fn check_single_preferred(accounts: &[FinancialAccount]) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let is_preferred =
        |account: &&FinancialAccount| account.preferred_for_payments && !account.meta.is_deleted();
    for (index, account) in accounts.iter().enumerate() {
        if !is_preferred(&account) {
            continue;
        }
        if accounts[..index]
            .iter()
            .filter(is_preferred)
            .any(|earlier| earlier.registrant_id == account.registrant_id)
        {
            errors.push(
                format!("{}.preferred_for_payments", indexed("", index)),
                code::DUPLICATE,
                "Another account is already preferred for payments; untick one of them.",
            );
        }
    }
    errors.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ActorId;
    use crate::test_support::id;
    use time::macros::datetime;

    fn account(n: u8, kind: AccountKind, provider: &str, number: &str) -> FinancialAccount {
        FinancialAccount {
            meta: RecordMeta::new(id(n), datetime!(2024-05-01 8:00 UTC), ActorId::new("agent")),
            registrant_id: id(1),
            kind,
            provider_code: provider.into(),
            account_number: number.into(),
            holder_name: "Amina Otieno".into(),
            verification_status: VerificationStatus::Unverified,
            preferred_for_payments: false,
            review: None,
        }
    }

    #[test]
    fn a_failed_verification_says_why() {
        let mut a = account(3, AccountKind::MobileWallet, "mpesa", "+254712345678");
        a.verification_status = VerificationStatus::Failed;
        assert!(a.validate().unwrap_err().has("review", code::REQUIRED));
        a.review = Some(crate::review::Review {
            by: ActorId::new("staff:otieno"),
            at: datetime!(2024-05-02 8:00 UTC),
            reason: Some("The provider knows no wallet with this number.".into()),
        });
        assert_eq!(a.validate(), Ok(()));
        a.verification_status = VerificationStatus::Unverified;
        assert!(a.validate().unwrap_err().has("review", code::INCONSISTENT));
        // Verified before decisions were kept: no review, still valid.
        a.verification_status = VerificationStatus::Verified;
        a.review = None;
        assert_eq!(a.validate(), Ok(()));
    }

    fn iban_account(number: &str) -> FinancialAccount {
        account(10, AccountKind::BankAccount, "COBADEFFXXX", number)
    }

    #[test]
    fn valid_iban_account() {
        let account = iban_account("DE89370400440532013000");
        assert!(account.is_iban());
        assert_eq!(account.validate(), Ok(()));
    }

    #[test]
    fn iban_checksum_flip_is_caught() {
        let errors = iban_account("DE89370400440532013001")
            .validate()
            .unwrap_err();
        assert!(errors.has("account_number", code::INVALID_CHECKSUM));
        let errors = iban_account("DE98370400440532013000")
            .validate()
            .unwrap_err();
        assert!(errors.has("account_number", code::INVALID_CHECKSUM));
    }

    #[test]
    fn iban_of_wrong_length_is_caught() {
        let errors = iban_account("DE8937040044053201300")
            .validate()
            .unwrap_err();
        assert!(errors.has("account_number", code::INVALID_FORMAT));
        assert!(errors.iter().next().unwrap().message.contains("22"));
    }

    #[test]
    fn national_account_numbers() {
        let kenyan = account(11, AccountKind::BankAccount, "01", "1234567890");
        assert_eq!(kenyan.validate(), Ok(()));
        let spaced = account(11, AccountKind::BankAccount, "01", "1234 5678");
        assert!(spaced
            .validate()
            .unwrap_err()
            .has("account_number", code::INVALID_FORMAT));
        let bad_bank = account(11, AccountKind::BankAccount, "kcb bank", "1234567890");
        assert!(bad_bank
            .validate()
            .unwrap_err()
            .has("provider_code", code::INVALID_FORMAT));
    }

    #[test]
    fn wallets_are_addressed_by_phone_or_email() {
        let mpesa = account(12, AccountKind::MobileWallet, "mpesa", "+254712345678");
        assert_eq!(mpesa.validate(), Ok(()));
        let local = account(12, AccountKind::MobileWallet, "mpesa", "0712345678");
        assert!(local
            .validate()
            .unwrap_err()
            .has("account_number", code::INVALID_FORMAT));
        let upper = account(12, AccountKind::MobileWallet, "M-Pesa", "+254712345678");
        assert!(upper
            .validate()
            .unwrap_err()
            .has("provider_code", code::INVALID_FORMAT));
        let paypal = account(13, AccountKind::EmailWallet, "paypal", "amina@example.org");
        assert_eq!(paypal.validate(), Ok(()));
        let bad = account(13, AccountKind::EmailWallet, "paypal", "amina");
        assert!(bad
            .validate()
            .unwrap_err()
            .has("account_number", code::INVALID_FORMAT));
    }

    #[test]
    fn missing_fields_are_required() {
        let mut empty = account(14, AccountKind::BankAccount, "", "");
        empty.holder_name.clear();
        let errors = empty.validate().unwrap_err();
        assert!(errors.has("provider_code", code::REQUIRED));
        assert!(errors.has("account_number", code::REQUIRED));
        assert!(errors.has("holder_name", code::REQUIRED));
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn at_most_one_preferred_account_per_registrant() {
        let mut first = iban_account("DE89370400440532013000");
        first.preferred_for_payments = true;
        let mut second = account(11, AccountKind::MobileWallet, "mpesa", "+254712345678");
        second.preferred_for_payments = true;
        let mut other_person = account(12, AccountKind::MobileWallet, "mpesa", "+254700000000");
        other_person.registrant_id = id(2);
        other_person.preferred_for_payments = true;

        let accounts = [first.clone(), second.clone(), other_person.clone()];
        let errors = check_single_preferred(&accounts).unwrap_err();
        assert!(errors.has("[1].preferred_for_payments", code::DUPLICATE));
        assert_eq!(errors.len(), 1);
        assert!(preferred_account(&accounts, id(1)).is_none());
        assert_eq!(preferred_account(&accounts, id(2)), Some(&other_person));

        second.meta.soft_delete(datetime!(2024-05-02 8:00 UTC));
        let accounts = [first.clone(), second, other_person];
        assert_eq!(check_single_preferred(&accounts), Ok(()));
        assert_eq!(preferred_account(&accounts, id(1)), Some(&first));
    }

    #[test]
    fn bank_codes() {
        for good in ["KCBLKENX", "COBADEFFXXX", "01", "123-456", "BARC"] {
            assert!(is_valid_bank_code(good), "{good}");
        }
        for bad in ["", "kcbl", "-01", "A B", "123456789012345678901"] {
            assert!(!is_valid_bank_code(bad), "{bad}");
        }
    }
}
