//! The review desk (registry staff and administrators): the queue of applications waiting for a
//! decision, one application opened with its answers, documents and payment accounts, and the
//! decisions (verify or reject a document, verify or fail an account, ask for more, approve,
//! reject), plus announcements to everyone in a programme.
//!
//! It works on the registry's own lists, online only, and keeps nothing on the device: the
//! registry checks every decision (crates/registry/src/api/review/) and tells the applicant.
//! Each decision answers with the application as it is now, so the screen never shows a stale
//! state after acting.

use doorstep_domain::api::Transition;
use doorstep_domain::review::{AccountDecision, DocumentDecision, ReviewQueueQuery};
pub use doorstep_domain::review::{
    AnnouncementReceipt, AnnouncementRequest, AnnouncementText, ReviewCase, ReviewQueueItem,
};
use doorstep_domain::Programme;
pub use doorstep_domain::{ApplicationStatus, DocumentStatus, VerificationStatus};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::refusal::{from_registry, refused};
use super::{AppError, Doorstep};
use crate::sync::SyncTransport;
use crate::vault::VaultError;

/// Applications per page of the queue.
const QUEUE_PAGE: u32 = 50;
/// Programmes listed in the queue's filter (one page of the registry's list).
const MAX_PROGRAMMES: usize = 500;

/// Which applications the queue shows. Every field narrows it; none: everything waiting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReviewFilter {
    pub programme: Option<Uuid>,
    pub status: Option<ApplicationStatus>,
    /// An area code: that area and every area inside it.
    pub area: Option<String>,
    /// Only applications waiting since before this day (`YYYY-MM-DD`, the start of that day UTC).
    pub waiting_since_before: Option<String>,
}

/// A programme the filter offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProgrammeChoice {
    pub id: String,
    pub name: String,
}

/// One page of the queue, for the screen.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReviewQueueView {
    pub items: Vec<ReviewQueueItem>,
    /// Pass back as `after` for the next page; absent on the last.
    pub next_after: Option<String>,
    /// The programmes to filter by (given with the first page only).
    pub programmes: Vec<ProgrammeChoice>,
}

impl Doorstep {
    /// A page of the queue: the first one (`after` absent) with the programmes to filter by.
    pub async fn review_queue(
        &self,
        filter: ReviewFilter,
        after: Option<String>,
    ) -> Result<ReviewQueueView, AppError> {
        let query = ReviewQueueQuery {
            programme: filter.programme,
            status: filter.status,
            area: filter
                .area
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty()),
            waiting_since_before: filter
                .waiting_since_before
                .as_deref()
                .map(start_of_day)
                .transpose()?,
            after: after.clone(),
            limit: Some(QUEUE_PAGE),
        };
        let (_, transport) = self.online().await?;
        let token = transport.token().await;
        let page = transport
            .registry()
            .review_queue(&token, &query)
            .await
            .map_err(from_registry)?;
        let programmes = match after {
            Some(_) => Vec::new(),
            None => programme_choices(&transport).await?,
        };
        Ok(ReviewQueueView {
            items: page.items,
            next_after: page.next_after,
            programmes,
        })
    }

    /// The programmes, by name (for choosing who an announcement goes to).
    pub async fn review_programmes(&self) -> Result<Vec<ProgrammeChoice>, AppError> {
        let (_, transport) = self.online().await?;
        programme_choices(&transport).await
    }

    /// One application, as the reviewer opens it.
    pub async fn review_case(&self, application: Uuid) -> Result<ReviewCase, AppError> {
        let (_, transport) = self.online().await?;
        let token = transport.token().await;
        transport
            .registry()
            .review_case(&token, application)
            .await
            .map_err(from_registry)
    }

    /// Mark a document of `application` verified, or rejected with the reason the applicant
    /// reads. `rev` is the revision the reviewer saw: a document changed since is refused.
    pub async fn decide_document(
        &self,
        application: Uuid,
        document: Uuid,
        rev: u64,
        status: DocumentStatus,
        reason: Option<String>,
    ) -> Result<ReviewCase, AppError> {
        let (_, transport) = self.online().await?;
        let token = transport.token().await;
        let decision = DocumentDecision {
            status,
            reason: reason_given(reason),
        };
        transport
            .registry()
            .decide_document(&token, document, rev, &decision, Uuid::now_v7())
            .await
            .map_err(from_registry)?;
        self.review_case(application).await
    }

    /// Mark a payment account verified, or failed with the reason the applicant reads.
    pub async fn decide_account(
        &self,
        application: Uuid,
        account: Uuid,
        rev: u64,
        status: VerificationStatus,
        reason: Option<String>,
    ) -> Result<ReviewCase, AppError> {
        let (_, transport) = self.online().await?;
        let token = transport.token().await;
        let decision = AccountDecision {
            status,
            reason: reason_given(reason),
        };
        transport
            .registry()
            .decide_account(&token, account, rev, &decision, Uuid::now_v7())
            .await
            .map_err(from_registry)?;
        self.review_case(application).await
    }

    /// Move the application on (start the review, ask for more, approve, reject) with the note
    /// the applicant reads.
    pub async fn decide_application(
        &self,
        application: Uuid,
        to: ApplicationStatus,
        note: Option<String>,
    ) -> Result<ReviewCase, AppError> {
        let (_, transport) = self.online().await?;
        let token = transport.token().await;
        let transition = Transition {
            to,
            note: reason_given(note),
        };
        transport
            .registry()
            .transition(&token, application, &transition, Uuid::now_v7())
            .await
            .map_err(from_registry)?;
        self.review_case(application).await
    }

    /// Send a message to everyone with an application in a programme. The request's `id` is
    /// made by the screen when the message is written, so sending twice notifies nobody twice.
    pub async fn announce(
        &self,
        announcement: AnnouncementRequest,
    ) -> Result<AnnouncementReceipt, AppError> {
        // The registry checks it too; checked here first, the fields are marked before sending.
        announcement
            .validate()
            .map_err(|problems| AppError::Vault(VaultError::Invalid(problems)))?;
        let (_, transport) = self.online().await?;
        let token = transport.token().await;
        transport
            .registry()
            .announce(&token, &announcement)
            .await
            .map_err(from_registry)
    }

    /// A document's bytes, for the reviewer to look at: fetched from the registry and held in
    /// memory only (never written on this computer).
    pub async fn review_document_content(&self, document: Uuid) -> Result<Vec<u8>, AppError> {
        let (_, transport) = self.online().await?;
        let mut response = transport
            .document_content(document)
            .await
            .map_err(from_registry)?;
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|_| {
            refused(
                "needsNetwork",
                "This needs the registry, and it cannot be reached. Connect to the network and try again.",
            )
        })? {
            if (bytes.len() + chunk.len()) as u64 > doorstep_domain::document::MAX_DOCUMENT_BYTES {
                return Err(refused(
                    "fileTooLarge",
                    "The registry sent more than a document may hold.",
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

/// A note or reason as typed: blank is none (the registry then says when one is needed).
fn reason_given(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `YYYY-MM-DD` → the RFC 3339 start of that day, UTC.
fn start_of_day(day: &str) -> Result<String, AppError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(day.trim(), &format)
        .map(|d| format!("{d}T00:00:00Z"))
        .map_err(|_| {
            refused(
                "dateFormat",
                "Give the date as year, month and day, such as 2026-12-01.",
            )
        })
}

/// The programmes the registry lists, by name, for the queue's filter.
async fn programme_choices(transport: &SyncTransport) -> Result<Vec<ProgrammeChoice>, AppError> {
    let token = transport.token().await;
    let page = transport
        .registry()
        .programmes_page(&token, None)
        .await
        .map_err(from_registry)?;
    let mut choices: Vec<ProgrammeChoice> = page
        .items
        .into_iter()
        .filter_map(|item| serde_json::from_value::<Programme>(item).ok())
        .filter(|p| p.meta.deleted_at.is_none())
        .take(MAX_PROGRAMMES)
        .map(|p| ProgrammeChoice {
            id: p.meta.id.to_string(),
            name: p.name,
        })
        .collect();
    choices.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(choices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_its_start_in_utc() {
        assert_eq!(start_of_day("2026-12-01").unwrap(), "2026-12-01T00:00:00Z");
        assert_eq!(
            start_of_day(" 2026-02-28 ").unwrap(),
            "2026-02-28T00:00:00Z"
        );
        for bad in ["2026-02-30", "01/12/2026", "", "2026-12-01T10:00:00Z"] {
            assert!(start_of_day(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_blank_note_is_no_note() {
        assert_eq!(reason_given(Some("  ".into())), None);
        assert_eq!(reason_given(None), None);
        assert_eq!(
            reason_given(Some(" Send a clearer photo. ".into())).as_deref(),
            Some("Send a clearer photo.")
        );
    }
}
