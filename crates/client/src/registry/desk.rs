//! The registry calls of the desks that work online: the staff directory, the review desk and
//! the messages sent.
//! Nothing here is kept on the device; each answer goes straight to the screen.

use doorstep_domain::api::{
    headers, paths, OutboxListQuery, OutboxPage, Page, StaffChange, StaffEntry, StaffGrant,
    StaffPage, StaffQuery,
};
use doorstep_domain::review::{
    AccountDecision, AnnouncementReceipt, AnnouncementRequest, DocumentDecision, ReviewCase,
    ReviewQueuePage, ReviewQueueQuery,
};
use doorstep_domain::{Document, FinancialAccount};
use uuid::Uuid;

use super::{RegistryClient, TransportError};

impl RegistryClient {
    /// `GET /v1/staff`: one page of the staff directory.
    pub async fn staff_list(
        &self,
        token: &str,
        query: &StaffQuery,
    ) -> Result<StaffPage, TransportError> {
        let request = self.http().get(self.url(paths::STAFF)).query(query);
        self.send_json(token, request).await
    }

    /// `POST /v1/staff`: give an identity a role.
    pub async fn staff_grant(
        &self,
        token: &str,
        grant: &StaffGrant,
    ) -> Result<StaffEntry, TransportError> {
        let request = self.http().post(self.url(paths::STAFF)).json(grant);
        self.send_json(token, request).await
    }

    /// `PUT /v1/staff/{id}`: a new role and areas for an entry.
    pub async fn staff_change(
        &self,
        token: &str,
        id: Uuid,
        change: &StaffChange,
    ) -> Result<StaffEntry, TransportError> {
        let request = self
            .http()
            .put(self.url(&paths::staff_entry(id)))
            .json(change);
        self.send_json(token, request).await
    }

    /// `DELETE /v1/staff/{id}`: revoke an entry (kept as the trail).
    pub async fn staff_revoke(&self, token: &str, id: Uuid) -> Result<StaffEntry, TransportError> {
        let request = self.http().delete(self.url(&paths::staff_entry(id)));
        self.send_json(token, request).await
    }

    /// `GET /v1/programmes`: one page of programmes (for the review desk's filter).
    pub async fn programmes_page(
        &self,
        token: &str,
        after: Option<Uuid>,
    ) -> Result<Page, TransportError> {
        let mut request = self
            .http()
            .get(self.url(&paths::collection("programmes")))
            .query(&[("limit", "500")]);
        if let Some(after) = after {
            request = request.query(&[("after", after.to_string())]);
        }
        self.send_json(token, request).await
    }

    /// `GET /v1/review/queue`: applications waiting for a reviewer, oldest waiting first.
    pub async fn review_queue(
        &self,
        token: &str,
        query: &ReviewQueueQuery,
    ) -> Result<ReviewQueuePage, TransportError> {
        let request = self.http().get(self.url(paths::REVIEW_QUEUE)).query(query);
        self.send_json(token, request).await
    }

    /// `GET /v1/review/applications/{id}`: everything a reviewer needs to decide.
    pub async fn review_case(&self, token: &str, id: Uuid) -> Result<ReviewCase, TransportError> {
        let request = self.http().get(self.url(&paths::review_application(id)));
        self.send_json(token, request).await
    }

    /// `POST /v1/review/documents/{id}/verification`, on revision `rev` (a stale one is
    /// refused), once per `key` however often it is retried.
    pub async fn decide_document(
        &self,
        token: &str,
        id: Uuid,
        rev: u64,
        decision: &DocumentDecision,
        key: Uuid,
    ) -> Result<Document, TransportError> {
        let request = self
            .http()
            .post(self.url(&paths::review_document(id)))
            .header(reqwest::header::IF_MATCH, format!("\"{rev}\""))
            .header(headers::IDEMPOTENCY_KEY, key.to_string())
            .json(decision);
        self.send_json(token, request).await
    }

    /// `POST /v1/review/financial-accounts/{id}/verification` (as [`Self::decide_document`]).
    pub async fn decide_account(
        &self,
        token: &str,
        id: Uuid,
        rev: u64,
        decision: &AccountDecision,
        key: Uuid,
    ) -> Result<FinancialAccount, TransportError> {
        let request = self
            .http()
            .post(self.url(&paths::review_account(id)))
            .header(reqwest::header::IF_MATCH, format!("\"{rev}\""))
            .header(headers::IDEMPOTENCY_KEY, key.to_string())
            .json(decision);
        self.send_json(token, request).await
    }

    /// `POST /v1/review/announcements`: a message to everyone in a programme (the request's own
    /// id makes a retry harmless).
    pub async fn announce(
        &self,
        token: &str,
        announcement: &AnnouncementRequest,
    ) -> Result<AnnouncementReceipt, TransportError> {
        let request = self
            .http()
            .post(self.url(paths::ANNOUNCEMENTS))
            .header(headers::IDEMPOTENCY_KEY, announcement.id.to_string())
            .json(announcement);
        self.send_json(token, request).await
    }

    /// `GET /v1/outbox`: a page of the messages beyond the app and how their delivery went,
    /// newest first (staff and administrators).
    pub async fn outbox(
        &self,
        token: &str,
        query: &OutboxListQuery,
    ) -> Result<OutboxPage, TransportError> {
        let request = self.http().get(self.url(paths::OUTBOX)).query(query);
        self.send_json(token, request).await
    }
}
