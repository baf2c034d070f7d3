//! The app's log: on stderr (level from `DOORSTEP_LOG`, default info) and, once the data folder
//! is known, in daily files `<data>/logs/doorstep.<date>.log`, the last [`KEEP_DAYS`] kept. The
//! files take Doorstep's own info and above and other crates' warnings, never debug output; the
//! code logs no personal data (no names, numbers, answers or tokens: events name records by
//! kind and count), which the end-to-end tests check with marker strings. The last warnings and
//! errors are also kept in memory for "Copy support details".

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Days of log files kept.
pub const KEEP_DAYS: usize = 7;
/// Warnings and errors kept for the support details.
const RECENT: usize = 20;
/// What goes to the file, whatever `DOORSTEP_LOG` says.
const FILE_FILTER: &str = "warn,doorstep=info,doorstep_app=info,doorstep_client=info";

/// The log's handles, kept by the shell.
#[derive(Clone, Default)]
pub struct Logs {
    file: Arc<OnceLock<Mutex<RollingFileAppender>>>,
    recent: Arc<Mutex<VecDeque<String>>>,
}

impl Logs {
    /// Install the global subscriber. Events before [`Logs::write_to`] go to stderr only.
    pub fn init() -> Self {
        let logs = Logs::default();
        let stderr = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(
                EnvFilter::try_from_env("DOORSTEP_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
            );
        let file = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(FileWriter(logs.file.clone()))
            .with_filter(EnvFilter::new(FILE_FILTER));
        let recent = Recent(logs.recent.clone()).with_filter(EnvFilter::new(FILE_FILTER));
        tracing_subscriber::registry()
            .with(stderr)
            .with(file)
            .with(recent)
            .init();
        logs
    }

    /// Start writing the files in `<data_dir>/logs`.
    pub fn write_to(&self, data_dir: &Path) -> Result<(), String> {
        let dir = data_dir.join("logs");
        let appender = RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix("doorstep")
            .filename_suffix("log")
            .max_log_files(KEEP_DAYS)
            .build(&dir)
            .map_err(|e| format!("cannot write the log in {}: {e}", dir.display()))?;
        let _ = self.file.set(Mutex::new(appender));
        Ok(())
    }

    /// The last warnings and errors, oldest first.
    pub fn recent_problems(&self) -> Vec<String> {
        self.recent
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Writes each event to the file once one is set (dropped before).
#[derive(Clone)]
struct FileWriter(Arc<OnceLock<Mutex<RollingFileAppender>>>);

/// One event's bytes, written whole when done, so events from threads never interleave.
struct EventBuffer {
    file: Arc<OnceLock<Mutex<RollingFileAppender>>>,
    bytes: Vec<u8>,
}

impl<'a> MakeWriter<'a> for FileWriter {
    type Writer = EventBuffer;
    fn make_writer(&'a self) -> EventBuffer {
        EventBuffer {
            file: self.0.clone(),
            bytes: Vec::new(),
        }
    }
}

impl Write for EventBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventBuffer {
    fn drop(&mut self) {
        if let Some(file) = self.file.get() {
            if let Ok(mut f) = file.lock() {
                // A full disk must not take the app down: the event is lost, nothing else.
                let _ = f.write_all(&self.bytes);
            }
        }
    }
}

/// Keeps the last warnings and errors as one line each.
struct Recent(Arc<Mutex<VecDeque<String>>>);

impl<S: Subscriber> Layer<S> for Recent {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        if level > Level::WARN {
            return;
        }
        let mut line = Line(String::new());
        event.record(&mut line);
        let when = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let text = format!("{when} {level} {}:{}", event.metadata().target(), line.0);
        if let Ok(mut recent) = self.0.lock() {
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(text);
        }
    }
}

/// An event's message and fields, as `fmt` would show them.
struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.push_str(&format!(" {value:?}"));
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push(' ');
            self.0.push_str(value);
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }
}
