//! Every message the registry writes to an applicant itself (status changes, decisions, liveness
//! and closing-day reminders), in English, French and Arabic: the one place their wording
//! lives. A reviewer's note or reason is added as written, under a heading in the person's
//! language. Announcements carry the sender's own words (and translations) instead.

use doorstep_domain::notification::{MAX_BODY_CHARS, MAX_TITLE_CHARS};
use doorstep_domain::{
    ApplicationStatus, DocumentKind, DocumentStatus, Language, VerificationStatus,
};
use time::Date;

/// What happened, for the person it happened to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// Their application to `programme` moved from `from` to `to`, with the reviewer's note.
    Application {
        programme: &'a str,
        from: ApplicationStatus,
        to: ApplicationStatus,
        note: Option<&'a str>,
    },
    /// A reviewer verified or rejected one of their documents.
    Document {
        kind: DocumentKind,
        status: DocumentStatus,
        reason: Option<&'a str>,
    },
    /// A reviewer verified their payment account, or could not.
    Account {
        status: VerificationStatus,
        reason: Option<&'a str>,
    },
    /// Their next liveness check is due on `due` (soon, or today).
    LivenessDueSoon { due: Date },
    /// Their liveness check was due on `due` and is overdue.
    LivenessOverdue { due: Date },
    /// Applications to `programme` close on `closes_on`, and theirs is still a draft.
    DeadlineSoon { programme: &'a str, closes_on: Date },
}

/// A notification's title and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub title: String,
    pub body: String,
}

/// The message telling someone reading `language` about `event`.
pub fn message(event: Event<'_>, language: Language) -> Message {
    use Language::{Ar, En, Fr};
    let (title, text, added) = match event {
        Event::Application {
            programme,
            from,
            to,
            note,
        } => {
            let (title, text) = application(from, to, language);
            (title, text.replace("{programme}", programme), note)
        }
        Event::Document {
            kind,
            status,
            reason,
        } => {
            let (title, text) = match (status, language) {
                (DocumentStatus::Rejected, En) => (
                    "Please send your document again",
                    "The office could not accept your {kind}. Send it again.",
                ),
                (DocumentStatus::Rejected, Fr) => (
                    "Veuillez renvoyer votre document",
                    "Le bureau n'a pas pu accepter votre document ({kind}). Envoyez-le de nouveau.",
                ),
                (DocumentStatus::Rejected, Ar) => (
                    "يرجى إرسال المستند مرة أخرى",
                    "تعذّر على المكتب قبول مستندك ({kind}). يرجى إرساله مرة أخرى.",
                ),
                (_, En) => (
                    "Document accepted",
                    "The office checked your {kind} and accepted it.",
                ),
                (_, Fr) => (
                    "Document accepté",
                    "Le bureau a vérifié votre document ({kind}) : il est accepté.",
                ),
                (_, Ar) => ("تم قبول المستند", "راجع المكتب مستندك ({kind}) وقبله."),
            };
            (
                title,
                text.replace("{kind}", kind_name(kind, language)),
                reason,
            )
        }
        Event::Account { status, reason } => {
            let (title, text) = match (status, language) {
                (VerificationStatus::Verified, En) => ("Payment account verified", "The office verified your payment account. Payments can be made to it."),
                (VerificationStatus::Verified, Fr) => ("Compte de paiement vérifié", "Le bureau a vérifié votre compte de paiement. Les paiements peuvent y être versés."),
                (VerificationStatus::Verified, Ar) => ("تم التحقق من حساب الدفع", "تحقّق المكتب من حساب الدفع الخاص بك. يمكن تحويل المدفوعات إليه."),
                (_, En) => ("Payment account not verified", "The office could not verify your payment account. Check the account details, or add another account."),
                (_, Fr) => ("Compte de paiement non vérifié", "Le bureau n'a pas pu vérifier votre compte de paiement. Vérifiez les informations du compte ou ajoutez un autre compte."),
                (_, Ar) => ("لم يتم التحقق من حساب الدفع", "تعذّر على المكتب التحقق من حساب الدفع الخاص بك. تحقّق من بيانات الحساب أو أضف حسابًا آخر."),
            };
            (title, text.to_owned(), reason)
        }
        Event::LivenessDueSoon { due } => {
            let (title, text) = match language {
                En => ("Your liveness check is due", "Your next liveness check is due on {date}. Open the app and do it before then, so your payments continue."),
                Fr => ("Votre contrôle de présence arrive à échéance", "Votre prochain contrôle de présence est à faire avant le {date}. Ouvrez l'application et faites-le d'ici là pour que vos paiements continuent."),
                Ar => ("حان موعد التحقق من الحضور", "موعد التحقق التالي من الحضور هو {date}. افتح التطبيق وأجرِه قبل ذلك حتى تستمر مدفوعاتك."),
            };
            (
                title,
                text.replace("{date}", &doorstep_domain::date_format::format(due)),
                None,
            )
        }
        Event::LivenessOverdue { due } => {
            let (title, text) = match language {
                En => ("Your liveness check is overdue", "Your liveness check was due on {date}. Open the app and do it now, or visit the office: payments may stop until it is done."),
                Fr => ("Votre contrôle de présence est en retard", "Votre contrôle de présence était à faire le {date}. Ouvrez l'application et faites-le maintenant, ou passez au bureau : les paiements peuvent être suspendus en attendant."),
                Ar => ("تأخّر التحقق من الحضور", "كان موعد التحقق من الحضور {date}. افتح التطبيق وأجرِه الآن أو توجّه إلى المكتب: قد تتوقف المدفوعات حتى يتم ذلك."),
            };
            (
                title,
                text.replace("{date}", &doorstep_domain::date_format::format(due)),
                None,
            )
        }
        Event::DeadlineSoon {
            programme,
            closes_on,
        } => {
            let (title, text) = match language {
                En => ("Applications close soon", "Applications to {programme} close on {date}, and yours is not sent yet. Open the app, finish it and submit it before the end of that day."),
                Fr => ("Les demandes ferment bientôt", "Les demandes pour {programme} ferment le {date}, et la vôtre n'est pas encore envoyée. Ouvrez l'application, terminez-la et envoyez-la avant la fin de ce jour."),
                Ar => ("يقترب موعد إغلاق الطلبات", "يُغلق باب الطلبات لبرنامج {programme} في {date}، ولم يُرسَل طلبك بعد. افتح التطبيق وأكمل طلبك وأرسله قبل نهاية ذلك اليوم."),
            };
            (
                title,
                text.replace("{programme}", programme)
                    .replace("{date}", &doorstep_domain::date_format::format(closes_on)),
                None,
            )
        }
    };
    let heading = match (event, language) {
        (Event::Application { .. }, En) => "Note from the office:",
        (Event::Application { .. }, Fr) => "Message du bureau :",
        (Event::Application { .. }, Ar) => "ملاحظة من المكتب:",
        (_, En) => "Reason:",
        (_, Fr) => "Motif :",
        (_, Ar) => "السبب:",
    };
    Message {
        title: clip(title, MAX_TITLE_CHARS),
        body: with_note(text, heading, added),
    }
}

/// The line under every message sent beyond the app (e-mail, SMS): where the rest is.
pub fn outbound_footer(language: Language) -> &'static str {
    match language {
        Language::En => "You can read this message, and act on it, in the Doorstep app.",
        Language::Fr => {
            "Vous pouvez lire ce message et y donner suite dans l'application Doorstep."
        }
        Language::Ar => "يمكنك قراءة هذه الرسالة والتصرف بشأنها في تطبيق Doorstep.",
    }
}

/// The title and text of a status change (`{programme}` is the programme's name).
fn application(
    from: ApplicationStatus,
    to: ApplicationStatus,
    language: Language,
) -> (&'static str, &'static str) {
    use ApplicationStatus::*;
    use Language::{Ar, En, Fr};
    match (to, language) {
        (Submitted, En) if from == MoreInformationNeeded => ("Your answers were sent", "We received the information you added to your application to {programme}. Your application is back with the office."),
        (Submitted, Fr) if from == MoreInformationNeeded => ("Vos réponses ont été envoyées", "Nous avons reçu les informations ajoutées à votre demande pour {programme}. Votre demande est de nouveau entre les mains du bureau."),
        (Submitted, Ar) if from == MoreInformationNeeded => ("تم إرسال إجاباتك", "استلمنا المعلومات التي أضفتها إلى طلبك لبرنامج {programme}. عاد طلبك إلى المكتب."),
        (Submitted, En) => ("Application received", "We received your application to {programme}. You will be told here when it has been reviewed."),
        (Submitted, Fr) => ("Demande reçue", "Nous avons reçu votre demande pour {programme}. Vous serez informé ici lorsqu'elle aura été examinée."),
        (Submitted, Ar) => ("تم استلام الطلب", "استلمنا طلبك لبرنامج {programme}. سيتم إعلامك هنا عند الانتهاء من مراجعته."),
        (UnderReview, En) => ("Application under review", "The office has started reviewing your application to {programme}."),
        (UnderReview, Fr) => ("Demande en cours d'examen", "Le bureau a commencé l'examen de votre demande pour {programme}."),
        (UnderReview, Ar) => ("الطلب قيد المراجعة", "بدأ المكتب مراجعة طلبك لبرنامج {programme}."),
        (MoreInformationNeeded, En) => ("More information needed", "The office needs more information about your application to {programme} before deciding. Open the application to answer."),
        (MoreInformationNeeded, Fr) => ("Informations complémentaires demandées", "Le bureau a besoin de plus d'informations sur votre demande pour {programme} avant de décider. Ouvrez la demande pour répondre."),
        (MoreInformationNeeded, Ar) => ("مطلوب مزيد من المعلومات", "يحتاج المكتب إلى مزيد من المعلومات حول طلبك لبرنامج {programme} قبل اتخاذ القرار. افتح الطلب للرد."),
        (Approved, En) => ("Application approved", "Your application to {programme} was approved."),
        (Approved, Fr) => ("Demande approuvée", "Votre demande pour {programme} a été approuvée."),
        (Approved, Ar) => ("تمت الموافقة على الطلب", "تمت الموافقة على طلبك لبرنامج {programme}."),
        (Rejected, En) => ("Application not approved", "Your application to {programme} was not approved."),
        (Rejected, Fr) => ("Demande non approuvée", "Votre demande pour {programme} n'a pas été approuvée."),
        (Rejected, Ar) => ("لم تتم الموافقة على الطلب", "لم تتم الموافقة على طلبك لبرنامج {programme}."),
        (Draft, En) => ("Application back to draft", "Your application to {programme} is a draft again."),
        (Draft, Fr) => ("Demande revenue à l'état de brouillon", "Votre demande pour {programme} est de nouveau un brouillon."),
        (Draft, Ar) => ("أُعيد الطلب إلى مسودة", "أصبح طلبك لبرنامج {programme} مسودة مرة أخرى."),
    }
}

/// A document kind as the person calls it.
pub fn kind_name(kind: DocumentKind, language: Language) -> &'static str {
    use DocumentKind::*;
    use Language::{Ar, En, Fr};
    match (kind, language) {
        (IdCard, En) => "ID card",
        (IdCard, Fr) => "carte d'identité",
        (IdCard, Ar) => "بطاقة الهوية",
        (ProofOfAddress, En) => "proof of address",
        (ProofOfAddress, Fr) => "justificatif de domicile",
        (ProofOfAddress, Ar) => "إثبات العنوان",
        (IncomeCertificate, En) => "income certificate",
        (IncomeCertificate, Fr) => "attestation de revenus",
        (IncomeCertificate, Ar) => "شهادة الدخل",
        (Photo, En) => "photo",
        (Photo, Fr) => "photo",
        (Photo, Ar) => "الصورة",
        (Consent, En) => "signed consent",
        (Consent, Fr) => "consentement signé",
        (Consent, Ar) => "الموافقة الموقّعة",
        (Other, En) => "document",
        (Other, Fr) => "autre document",
        (Other, Ar) => "المستند",
    }
}

/// `text`, then the reviewer's words under `heading`, cut to fit a notification (the full note
/// stays in the record it is about).
fn with_note(text: String, heading: &str, note: Option<&str>) -> String {
    let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) else {
        return clip(&text, MAX_BODY_CHARS);
    };
    clip(&format!("{text}\n\n{heading} {note}"), MAX_BODY_CHARS)
}

/// At most `max` characters, ending in "…" when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_reads_in_every_language() {
        let events = ApplicationStatus::ALL
            .into_iter()
            .flat_map(|to| {
                [
                    ApplicationStatus::Draft,
                    ApplicationStatus::MoreInformationNeeded,
                ]
                .map(|from| Event::Application {
                    programme: "Cash",
                    from,
                    to,
                    note: None,
                })
            })
            .chain(
                [DocumentStatus::Verified, DocumentStatus::Rejected].map(|status| {
                    Event::Document {
                        kind: DocumentKind::IdCard,
                        status,
                        reason: None,
                    }
                }),
            )
            .chain(
                [VerificationStatus::Verified, VerificationStatus::Failed].map(|status| {
                    Event::Account {
                        status,
                        reason: None,
                    }
                }),
            )
            .chain([
                Event::LivenessDueSoon {
                    due: time::macros::date!(2026 - 07 - 01),
                },
                Event::LivenessOverdue {
                    due: time::macros::date!(2026 - 07 - 01),
                },
                Event::DeadlineSoon {
                    programme: "Cash",
                    closes_on: time::macros::date!(2026 - 07 - 01),
                },
            ]);
        for event in events {
            let words: Vec<Message> = Language::ALL.map(|l| message(event, l)).to_vec();
            for m in &words {
                assert!(!m.title.is_empty() && !m.body.is_empty(), "{event:?}");
                assert!(!m.body.contains('{'), "{event:?}: {}", m.body);
            }
            // Three different wordings: nothing falls back to English unnoticed.
            assert_ne!(words[0], words[1], "{event:?}");
            assert_ne!(words[0], words[2], "{event:?}");
            assert_ne!(words[1], words[2], "{event:?}");
        }
    }

    #[test]
    fn the_reviewers_words_follow_under_a_heading_in_the_persons_language() {
        let m = message(
            Event::Document {
                kind: DocumentKind::ProofOfAddress,
                status: DocumentStatus::Rejected,
                reason: Some("  The bill is older than three months. "),
            },
            Language::Fr,
        );
        assert!(m.body.contains("justificatif de domicile"), "{}", m.body);
        assert!(
            m.body
                .ends_with("Motif : The bill is older than three months."),
            "{}",
            m.body
        );
        let m = message(
            Event::Application {
                programme: "Pension",
                from: ApplicationStatus::UnderReview,
                to: ApplicationStatus::Rejected,
                note: Some(&"x".repeat(5000)),
            },
            Language::Ar,
        );
        assert!(m
            .body
            .starts_with("لم تتم الموافقة على طلبك لبرنامج Pension."));
        assert_eq!(m.body.chars().count(), MAX_BODY_CHARS);
        assert!(m.body.ends_with('…'));
    }
}
