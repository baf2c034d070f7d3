//! E-mail addresses, checked pragmatically.
//!
//! The full RFC 5322 grammar admits forms (quoted local parts, comments, IP-literal domains)
//! that real mailboxes for registrants never use and that mail providers reject anyway. This
//! check accepts what people actually have, including internationalised addresses, and refuses
//! the typos that lose messages: a missing `@`, a missing dot in the domain, spaces, doubled dots.

/// Longest address accepted (RFC 5321 path limit less the angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest part before the `@` (RFC 5321).
const MAX_LOCAL_LEN: usize = 64;
/// Longest label between dots in the domain (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// Whether `address` looks like a deliverable e-mail address, such as `amina@example.org`.
pub fn is_valid_email(address: &str) -> bool {
    if address.len() > MAX_EMAIL_LEN {
        return false;
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    is_valid_local_part(local) && is_valid_domain(domain)
}

fn is_valid_local_part(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= MAX_LOCAL_LEN
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(
                    c,
                    '@' | '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | ']' | '\\'
                )
        })
}

fn is_valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let labels_ok = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    // The top-level domain is never all digits; that would be an IP address typed as a domain.
    let tld = labels[labels.len() - 1];
    labels_ok && tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_addresses() {
        for good in [
            "amina@example.org",
            "first.last+tag@sub.example.co.ke",
            "o'brien@example.ie",
            "user_name-1@xn--80ak6aa92e.com",
            "josé@correo.example",
            "用户@例子.广告",
        ] {
            assert!(is_valid_email(good), "{good}");
        }
    }

    #[test]
    fn refuses_typos() {
        let long_local = format!("{}@example.org", "a".repeat(65));
        for bad in [
            "",
            "amina",
            "amina@",
            "@example.org",
            "amina@example",
            "amina@@example.org",
            "amina @example.org",
            "amina@exa mple.org",
            ".amina@example.org",
            "amina.@example.org",
            "ami..na@example.org",
            "amina@example..org",
            "amina@-example.org",
            "amina@example.o",
            "amina@192.168.0.1",
            "amina@[192.168.0.1]",
            "\"amina\"@example.org",
            long_local.as_str(),
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }
}
