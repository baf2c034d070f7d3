//! The words of the alerts the device makes itself (reminders, conflicts, a summary of new
//! messages), in the person's language. Messages from the registry come already worded in it
//! (the registry's templates); these are the few the app writes, so they live here rather than
//! in the web UI, which may not be running a screen when a reminder fires.

use time::Date;

/// Languages the device words alerts in; anything else gets English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
    Ar,
}

impl Lang {
    /// From a BCP 47 tag (`fr-CA` → French); unknown or none → English.
    pub fn from_tag(tag: Option<&str>) -> Lang {
        let primary = tag
            .and_then(|t| t.split(['-', '_']).next())
            .map(str::to_ascii_lowercase);
        match primary.as_deref() {
            Some("fr") => Lang::Fr,
            Some("ar") => Lang::Ar,
            _ => Lang::En,
        }
    }
}

/// What an alert says, before it is worded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    LivenessSoon {
        due: Date,
    },
    LivenessToday,
    DeadlineSoon {
        title: String,
        deadline: Date,
    },
    DeadlineToday {
        title: String,
    },
    ClosingSoon {
        programme: String,
        last: Date,
    },
    ClosingToday {
        programme: String,
    },
    Conflicts {
        count: u64,
    },
    /// More new messages than are shown one by one.
    MoreMessages {
        count: usize,
    },
}

/// `(title, body)` of `text` in `lang`. Dates as `YYYY-MM-DD`: unambiguous in every language.
pub fn word(text: &Text, lang: Lang) -> (String, String) {
    use Lang::*;
    match (text, lang) {
        (Text::LivenessSoon { due }, En) => (
            "Identity check due soon".into(),
            format!("Your next identity check is due on {due}. Open Doorstep to do it."),
        ),
        (Text::LivenessSoon { due }, Fr) => (
            "Contrôle d'identité bientôt".into(),
            format!("Votre prochain contrôle d'identité est prévu le {due}. Ouvrez Doorstep pour le faire."),
        ),
        (Text::LivenessSoon { due }, Ar) => (
            "اقترب موعد التحقق من الهوية".into(),
            format!("موعد التحقق التالي من هويتك في {due}. افتح Doorstep لإجرائه."),
        ),
        (Text::LivenessToday, En) => (
            "Identity check due today".into(),
            "Your identity check is due today. Payments may stop until it is done.".into(),
        ),
        (Text::LivenessToday, Fr) => (
            "Contrôle d'identité aujourd'hui".into(),
            "Votre contrôle d'identité est prévu aujourd'hui. Les paiements peuvent s'arrêter tant qu'il n'est pas fait.".into(),
        ),
        (Text::LivenessToday, Ar) => (
            "التحقق من الهوية اليوم".into(),
            "موعد التحقق من هويتك اليوم. قد تتوقف المدفوعات حتى يتم.".into(),
        ),
        (Text::DeadlineSoon { title, deadline }, En) => {
            (format!("Due on {deadline}"), format!("{title} — the last day is {deadline}."))
        }
        (Text::DeadlineSoon { title, deadline }, Fr) => (
            format!("À faire avant le {deadline}"),
            format!("{title} — le dernier jour est le {deadline}."),
        ),
        (Text::DeadlineSoon { title, deadline }, Ar) => (
            format!("الموعد النهائي {deadline}"),
            format!("{title} — آخر يوم هو {deadline}."),
        ),
        (Text::DeadlineToday { title }, En) => ("Last day today".into(), title.clone()),
        (Text::DeadlineToday { title }, Fr) => ("Dernier jour aujourd'hui".into(), title.clone()),
        (Text::DeadlineToday { title }, Ar) => ("اليوم آخر يوم".into(), title.clone()),
        (Text::ClosingSoon { programme, last }, En) => (
            format!("{programme}: applications close on {last}"),
            "Your application is not sent yet. Open Doorstep to finish and send it.".into(),
        ),
        (Text::ClosingSoon { programme, last }, Fr) => (
            format!("{programme} : les demandes ferment le {last}"),
            "Votre demande n'est pas encore envoyée. Ouvrez Doorstep pour la terminer et l'envoyer.".into(),
        ),
        (Text::ClosingSoon { programme, last }, Ar) => (
            format!("{programme}: يُغلق باب الطلبات في {last}"),
            "لم يُرسل طلبك بعد. افتح Doorstep لإكماله وإرساله.".into(),
        ),
        (Text::ClosingToday { programme }, En) => (
            format!("{programme}: last day to apply"),
            "Today is the last day to send your application.".into(),
        ),
        (Text::ClosingToday { programme }, Fr) => (
            format!("{programme} : dernier jour pour postuler"),
            "C'est aujourd'hui le dernier jour pour envoyer votre demande.".into(),
        ),
        (Text::ClosingToday { programme }, Ar) => (
            format!("{programme}: آخر يوم للتقديم"),
            "اليوم آخر يوم لإرسال طلبك.".into(),
        ),
        (Text::Conflicts { count }, En) => (
            "A change needs your decision".into(),
            format!("{count} change(s) made here and at the registry disagree. Choose which to keep."),
        ),
        (Text::Conflicts { count }, Fr) => (
            "Une modification attend votre choix".into(),
            format!("{count} modification(s) faites ici et au registre ne concordent pas. Choisissez laquelle garder."),
        ),
        (Text::Conflicts { count }, Ar) => (
            "تعديل ينتظر قرارك".into(),
            format!("{count} من التعديلات هنا وفي السجل لا تتفق. اختر ما تحتفظ به."),
        ),
        (Text::MoreMessages { count }, En) => (
            "New messages".into(),
            format!("{count} more new message(s) in Doorstep."),
        ),
        (Text::MoreMessages { count }, Fr) => (
            "Nouveaux messages".into(),
            format!("{count} autre(s) nouveau(x) message(s) dans Doorstep."),
        ),
        (Text::MoreMessages { count }, Ar) => (
            "رسائل جديدة".into(),
            format!("{count} رسالة جديدة أخرى في Doorstep."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn languages_follow_the_primary_subtag() {
        assert_eq!(Lang::from_tag(Some("fr-CA")), Lang::Fr);
        assert_eq!(Lang::from_tag(Some("AR")), Lang::Ar);
        assert_eq!(Lang::from_tag(Some("sw")), Lang::En);
        assert_eq!(Lang::from_tag(None), Lang::En);
    }

    #[test]
    fn every_text_is_worded_in_every_language_with_its_facts() {
        let texts = [
            Text::LivenessSoon {
                due: date!(2027 - 03 - 10),
            },
            Text::LivenessToday,
            Text::DeadlineSoon {
                title: "Send a payslip".into(),
                deadline: date!(2027 - 03 - 10),
            },
            Text::DeadlineToday {
                title: "Send a payslip".into(),
            },
            Text::ClosingSoon {
                programme: "Cash transfer".into(),
                last: date!(2027 - 03 - 10),
            },
            Text::ClosingToday {
                programme: "Cash transfer".into(),
            },
            Text::Conflicts { count: 3 },
            Text::MoreMessages { count: 4 },
        ];
        for text in &texts {
            let english = word(text, Lang::En);
            for lang in [Lang::Fr, Lang::Ar] {
                let (title, body) = word(text, lang);
                assert!(!title.is_empty() && !body.is_empty());
                assert_ne!(
                    (title.clone(), body.clone()),
                    english,
                    "{text:?} in {lang:?}"
                );
                let all = format!("{title} {body}");
                for fact in ["2027-03-10", "Send a payslip", "Cash transfer", "3", "4"] {
                    if format!("{english:?}").contains(fact) {
                        assert!(all.contains(fact), "{text:?} in {lang:?} lost {fact}");
                    }
                }
            }
        }
    }
}
