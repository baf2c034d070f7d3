//! The kiosk's operator exit: the one way out of a locked-down kiosk from its own screen, behind
//! the operator PIN the device configuration holds as an Argon2id hash. Guessing is slowed down:
//! after [`TRIES`] wrong PINs the exit stays locked for [`LOCKOUT`], doubling each time.

use std::time::{Duration, Instant};

use crate::app::config::operator_pin_matches;

/// Wrong PINs allowed before a lockout.
pub const TRIES: u32 = 5;
/// The first lockout; each further one doubles, up to an hour.
pub const LOCKOUT: Duration = Duration::from_secs(60);
const MAX_LOCKOUT: Duration = Duration::from_secs(3600);

/// Why the exit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExitRefused {
    #[error("This kiosk has no operator PIN, so it can only be closed from the computer's own settings.")]
    NoPin,
    #[error("That is not the operator PIN. {left} tries left before a pause.")]
    WrongPin { left: u32 },
    #[error("Too many wrong PINs. Try again in {seconds} seconds.")]
    Locked { seconds: u64 },
}

/// The operator exit's state for one run of the app.
#[derive(Debug)]
pub struct OperatorExit {
    hash: Option<String>,
    failures: u32,
    lockouts: u32,
    locked_until: Option<Instant>,
}

impl OperatorExit {
    pub fn new(hash: Option<String>) -> Self {
        OperatorExit {
            hash,
            failures: 0,
            lockouts: 0,
            locked_until: None,
        }
    }

    /// Whether an operator exit is offered at all.
    pub fn available(&self) -> bool {
        self.hash.is_some()
    }

    /// Check `pin` at `now`: `Ok` lets the operator out.
    pub fn check(&mut self, pin: &str, now: Instant) -> Result<(), ExitRefused> {
        let hash = self.hash.as_deref().ok_or(ExitRefused::NoPin)?;
        if let Some(until) = self.locked_until {
            if now < until {
                return Err(ExitRefused::Locked {
                    seconds: (until - now).as_secs().max(1),
                });
            }
            self.locked_until = None;
        }
        if operator_pin_matches(hash, pin) {
            self.failures = 0;
            self.lockouts = 0;
            return Ok(());
        }
        self.failures += 1;
        if self.failures >= TRIES {
            let pause = (LOCKOUT * 2u32.saturating_pow(self.lockouts)).min(MAX_LOCKOUT);
            self.lockouts += 1;
            self.failures = 0;
            self.locked_until = Some(now + pause);
            return Err(ExitRefused::Locked {
                seconds: pause.as_secs(),
            });
        }
        Err(ExitRefused::WrongPin {
            left: TRIES - self.failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::config::hash_operator_pin;

    #[test]
    fn the_right_pin_opens_and_wrong_ones_lock_for_longer_each_time() {
        let mut gate = OperatorExit::new(Some(hash_operator_pin("135790").unwrap()));
        assert!(gate.available());
        let t0 = Instant::now();
        for left in (1..TRIES).rev() {
            assert_eq!(
                gate.check("000000", t0),
                Err(ExitRefused::WrongPin { left })
            );
        }
        assert_eq!(
            gate.check("000000", t0),
            Err(ExitRefused::Locked { seconds: 60 })
        );
        // Locked: even the right PIN waits.
        assert_eq!(
            gate.check("135790", t0 + Duration::from_secs(30)),
            Err(ExitRefused::Locked { seconds: 30 })
        );
        let t1 = t0 + LOCKOUT;
        for _ in 1..TRIES {
            assert!(matches!(
                gate.check("1", t1),
                Err(ExitRefused::WrongPin { .. })
            ));
        }
        assert_eq!(
            gate.check("1", t1),
            Err(ExitRefused::Locked { seconds: 120 })
        );
        assert_eq!(gate.check("135790", t1 + Duration::from_secs(120)), Ok(()));
    }

    #[test]
    fn without_a_pin_there_is_no_exit() {
        let mut gate = OperatorExit::new(None);
        assert!(!gate.available());
        assert_eq!(gate.check("", Instant::now()), Err(ExitRefused::NoPin));
    }
}
