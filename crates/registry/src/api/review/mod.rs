//! The review desk (issue 17), for staff and admins: the queue of applications waiting for the
//! office ([`queue`]), one application opened with everything a reviewer needs ([`case`]),
//! decisions on documents and payment accounts ([`decide`]) and announcements to a programme's
//! applicants ([`announce`]). Decisions on applications themselves (ask for more information,
//! approve, reject) are the status moves of `POST /v1/applications/{id}/transitions`
//! ([`super::applications`]).
//!
//! Every route checks its caller first: citizens and agents are refused (403), staff the
//! directory limits to some areas see and act on those areas only (anything else answers 404,
//! like a record that does not exist), and every decision goes through the one write pipeline
//! ([`super::write::prepare`]) and is committed with the notification telling the person, in
//! their language ([`super::notify`]).

pub mod announce;
pub mod case;
pub mod decide;
pub mod queue;

use super::ApiError;
use crate::access::{self, Caller};
use crate::problem::ProblemKind;

/// Refuse anyone who does not review: the desk is for staff and admins.
pub fn reviewer(caller: &Caller) -> Result<(), ApiError> {
    match access::reviews(caller.role()) {
        true => Ok(()),
        false => Err(ApiError::forbidden(
            "The review desk is for registry staff and administrators.",
        )),
    }
}

/// An area filter the caller may use: a plausible code, and for staff limited to some areas,
/// one of them or an area below one.
pub fn area_filter(caller: &Caller, area: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(area) = area else {
        return Ok(None);
    };
    if area.is_empty() || area.len() > 64 || !area.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::new(
            ProblemKind::BadRequest,
            "area must be an area code such as KE.30 (at most 64 visible characters).",
        ));
    }
    let mine = &caller.principal.areas;
    let within = |own: &String| area == own || area.starts_with(&format!("{own}."));
    if !mine.is_empty() && !mine.iter().any(within) {
        return Err(ApiError::forbidden(format!(
            "You review {} only: choose an area within {}.",
            mine.join(", "),
            if mine.len() == 1 { "it" } else { "them" }
        )));
    }
    Ok(Some(area.to_owned()))
}
