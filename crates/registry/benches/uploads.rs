//! Upload throughput and server memory: `cargo bench -p doorstep-registry --bench uploads`.
//!
//! Uploads one 100 MB document (100_000_000 bytes) over loopback HTTP to a server running in this
//! process, and compares in the same run:
//! 1. raw: a plain axum POST that streams the body into a file and fsyncs it — no hashing, no
//!    sniffing, no state. The ceiling for this machine and this HTTP stack.
//! 2. tus, the whole file in one PATCH: creation, the bytes, fsync, the state file, the SHA-256
//!    of the whole file checked against the announced one, the sniff, the move into the blob
//!    store.
//! 3. tus, 8 MiB PATCHes (how tus-js-client uploads with `chunkSize`): each PATCH fsynced and
//!    recorded before it is acknowledged.
//! 4. the same with `Upload-Checksum` on every PATCH (informational: every byte is hashed twice).
//!
//! The modes alternate within each round, ROUNDS rounds; the median is reported as MB/s and as a
//! ratio to raw. Memory: the server's (this process's) resident set growth during each upload,
//! measured two ways — the kernel's peak (`VmHWM`, reset by writing `5` to
//! `/proc/self/clear_refs` just before the upload) minus `VmRSS` before it, and a sampler thread
//! reading `VmRSS` every 5 ms; the larger growth over all rounds is reported. The client shares
//! the process, but its copy of the document is allocated before any measurement.
//!
//! `cargo test --benches` runs a quick, small version.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use doorstep_registry::blobs::{FsBlobStore, Sha256Hex};
use doorstep_registry::uploads::{upload_routes, UploadConfig, UploadOwner, Uploads};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

const FILE_BYTES: usize = 100_000_000;
const ROUNDS: usize = 5;
const PATCH_CHUNK: usize = 8 * 1024 * 1024;

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let (file_bytes, rounds) = if quick {
        (1024 * 1024, 1)
    } else {
        (FILE_BYTES, ROUNDS)
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(file_bytes, rounds, quick));
}

/// The baseline's whole server: stream the body to a file, fsync, 204.
async fn raw_post(
    State(dir): State<std::path::PathBuf>,
    Path(name): Path<String>,
    body: Body,
) -> StatusCode {
    let file = tokio::fs::File::create(dir.join(name)).await.unwrap();
    let mut writer = tokio::io::BufWriter::with_capacity(1024 * 1024, file);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        writer.write_all(&chunk.unwrap()).await.unwrap();
    }
    writer.flush().await.unwrap();
    writer.into_inner().sync_data().await.unwrap();
    StatusCode::NO_CONTENT
}

#[derive(Clone, Copy)]
enum Mode {
    Raw,
    Tus { patch: usize, checksum: bool },
}

const MODES: [(&str, Mode); 4] = [
    ("raw POST (baseline)", Mode::Raw),
    (
        "tus, 1 PATCH",
        Mode::Tus {
            patch: usize::MAX,
            checksum: false,
        },
    ),
    (
        "tus, 8 MiB PATCHes",
        Mode::Tus {
            patch: PATCH_CHUNK,
            checksum: false,
        },
    ),
    (
        "tus, 8 MiB PATCHes + checksum",
        Mode::Tus {
            patch: PATCH_CHUNK,
            checksum: true,
        },
    ),
];

struct Bench {
    client: reqwest::Client,
    base: String,
    file: Bytes,
    sha: String,
    /// Per-PATCH `Upload-Checksum` digests for 8 MiB PATCHes, computed before any clock starts.
    digests: Vec<String>,
}

impl Bench {
    async fn upload(&self, mode: Mode, round: usize) -> Duration {
        match mode {
            Mode::Raw => self.raw(round).await,
            Mode::Tus { patch, checksum } => self.tus(patch, checksum).await,
        }
    }

    async fn raw(&self, round: usize) -> Duration {
        let started = Instant::now();
        let resp = self
            .client
            .post(format!("{}/raw/{round}", self.base))
            .body(self.file.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
        started.elapsed()
    }

    async fn tus(&self, patch_size: usize, checksum: bool) -> Duration {
        let bytes = &self.file;
        let started = Instant::now();
        let resp = self
            .client
            .post(format!("{}/v1/uploads", self.base))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", bytes.len().to_string())
            .header(
                "Upload-Metadata",
                format!("sha256 {}", STANDARD.encode(&self.sha)),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let url = format!(
            "{}{}",
            self.base,
            resp.headers()["location"].to_str().unwrap()
        );
        let mut offset = 0;
        let mut digests = self.digests.iter();
        while offset < bytes.len() {
            let end = offset.saturating_add(patch_size).min(bytes.len());
            let mut request = self
                .client
                .patch(&url)
                .header("Tus-Resumable", "1.0.0")
                .header("Content-Type", "application/offset+octet-stream")
                .header("Upload-Offset", offset.to_string());
            if checksum {
                let digest = digests.next().expect("one digest per PATCH");
                request = request.header("Upload-Checksum", format!("sha256 {digest}"));
            }
            let resp = request.body(bytes.slice(offset..end)).send().await.unwrap();
            assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
            offset = end;
            if offset == bytes.len() {
                assert_eq!(
                    resp.headers()["doorstep-blob"],
                    format!("sha256:{}", self.sha)
                );
            }
        }
        started.elapsed()
    }
}

/// A `/proc/self/status` field in KiB (Linux).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Resident-set growth of this process during one upload, in KiB, both ways (see the header).
struct RssProbe {
    before: u64,
    hwm_reset: bool,
    sampling: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    sampler: std::thread::JoinHandle<()>,
}

impl RssProbe {
    fn start() -> Self {
        let before = status_kib("VmRSS:").unwrap_or(0);
        // "5" resets the peak resident set size (VmHWM) to the current one.
        let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let sampling = Arc::new(AtomicBool::new(true));
        let peak = Arc::new(AtomicU64::new(before));
        let sampler = {
            let (sampling, peak) = (sampling.clone(), peak.clone());
            std::thread::spawn(move || {
                while sampling.load(Ordering::Relaxed) {
                    if let Some(rss) = status_kib("VmRSS:") {
                        peak.fetch_max(rss, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        RssProbe {
            before,
            hwm_reset,
            sampling,
            peak,
            sampler,
        }
    }

    /// (growth by VmHWM, growth by the 5 ms sampler), KiB.
    fn stop(self) -> (Option<u64>, u64) {
        self.sampling.store(false, Ordering::Relaxed);
        self.sampler.join().unwrap();
        let hwm = self
            .hwm_reset
            .then(|| status_kib("VmHWM:"))
            .flatten()
            .map(|hwm| hwm.saturating_sub(self.before));
        (
            hwm,
            self.peak
                .load(Ordering::Relaxed)
                .saturating_sub(self.before),
        )
    }
}

async fn run(file_bytes: usize, rounds: usize, quick: bool) {
    // In the target directory, not /tmp: the same disk as a registry's data, never a tmpfs.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = dir.path().join("data");
    let raw_dir = data.join("raw");
    std::fs::create_dir_all(&raw_dir).unwrap();
    let uploads = Uploads::open(
        &data,
        UploadConfig::default(),
        Arc::new(FsBlobStore::in_data_dir(&data).unwrap()),
    )
    .unwrap();
    let app = Router::new()
        .route("/raw/{name}", post(raw_post))
        .with_state(raw_dir.clone())
        .merge(upload_routes::<Uploads>().with_state(uploads.clone()))
        .layer(Extension(UploadOwner("bench".into())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // Pseudo-random bytes (xorshift): nothing compresses or repeats. A PDF by its first bytes.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut bytes: Vec<u8> = (0..file_bytes)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    bytes[..9].copy_from_slice(b"%PDF-1.7\n");
    let hashing = Instant::now();
    let sha = hex::encode(Sha256::digest(&bytes));
    let sha_mbps = file_bytes as f64 / 1e6 / hashing.elapsed().as_secs_f64();
    let digests = bytes
        .chunks(PATCH_CHUNK)
        .map(|part| STANDARD.encode(Sha256::digest(part)))
        .collect();
    let bench = Bench {
        client: reqwest::Client::new(),
        base,
        file: Bytes::from(bytes),
        sha,
        digests,
    };
    let blob = Sha256Hex::parse(&bench.sha).unwrap();
    // One untimed upload of each mode: connections, allocator and page cache warm.
    for (_, mode) in MODES {
        uploads.blobs().delete(&blob).await.unwrap();
        bench.upload(mode, usize::MAX).await;
    }

    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); MODES.len()];
    let mut growth_hwm: Vec<Option<u64>> = vec![Some(0); MODES.len()];
    let mut growth_sampled = vec![0u64; MODES.len()];
    for round in 0..rounds {
        for (m, (_, mode)) in MODES.iter().enumerate() {
            // Content addressing would turn a repeat upload into a no-op: start each one empty.
            uploads.blobs().delete(&blob).await.unwrap();
            let _ = std::fs::remove_dir_all(&raw_dir);
            std::fs::create_dir_all(&raw_dir).unwrap();
            let probe = RssProbe::start();
            times[m].push(bench.upload(*mode, round).await);
            let (hwm, sampled) = probe.stop();
            growth_hwm[m] = growth_hwm[m].zip(hwm).map(|(a, b)| a.max(b));
            growth_sampled[m] = growth_sampled[m].max(sampled);
        }
    }
    uploads.blobs().delete(&blob).await.unwrap();

    let medians: Vec<Duration> = times
        .iter_mut()
        .map(|samples| {
            samples.sort();
            samples[samples.len() / 2]
        })
        .collect();
    let mbps = |d: Duration| file_bytes as f64 / 1e6 / d.as_secs_f64();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "Doorstep upload benchmark: one {:.1} MB document over loopback, server in-process, \
         median of {rounds} alternating round(s){}",
        file_bytes as f64 / 1e6,
        if quick { " (quick mode)" } else { "" }
    );
    println!("SHA-256 of the document in this build, one thread: {sha_mbps:.0} MB/s");
    println!(
        "{:<32} {:>8} {:>8} {:>8} {:>14} {:>14}",
        "mode", "seconds", "MB/s", "vs raw", "RSS+ peak MiB", "RSS+ 5ms MiB"
    );
    for (m, (name, _)) in MODES.iter().enumerate() {
        println!(
            "{:<32} {:>8.3} {:>8.1} {:>7.2}× {:>14} {:>14.1}",
            name,
            medians[m].as_secs_f64(),
            mbps(medians[m]),
            mbps(medians[m]) / mbps(medians[0]),
            growth_hwm[m].map_or("n/a".to_owned(), |k| format!("{:.1}", mib(k))),
            mib(growth_sampled[m]),
        );
    }
    println!(
        "all rounds, seconds (sorted): {}",
        MODES
            .iter()
            .zip(&times)
            .map(|((name, _), t)| format!(
                "{name}: {}",
                t.iter()
                    .map(|d| format!("{:.3}", d.as_secs_f64()))
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
}
