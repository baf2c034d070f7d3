//! Upload throughput: `cargo bench -p doorstep-registry --bench uploads`.
//!
//! Uploads FILES files of FILE_MIB MiB over loopback HTTP, one after another as one agent's app
//! would, and compares three ways in the same run:
//! 1. raw: a plain axum POST that streams the body into a file and fsyncs it — no hashing, no
//!    sniffing, no state. The ceiling for this machine and this HTTP stack.
//! 2. tus, one PATCH per file: creation, the bytes, fsync, the state file, the SHA-256 of the
//!    whole file, the sniff, the move into the blob store.
//! 3. tus, 4 MiB PATCHes with `Upload-Checksum` (how tus-js-client uploads with `chunkSize`).
//!
//! Each mode runs ROUNDS times, interleaved; the median round is reported as MB/s and as a ratio
//! to raw. `cargo test --benches` runs a quick, small version.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use doorstep_registry::blobs::FsBlobStore;
use doorstep_registry::uploads::{upload_routes, UploadConfig, UploadOwner, Uploads};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

const FILES: usize = 5;
const FILE_MIB: usize = 20;
const ROUNDS: usize = 5;
const PATCH_CHUNK: usize = 4 * 1024 * 1024;

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let (file_bytes, rounds) = if quick {
        (1024 * 1024, 1)
    } else {
        (FILE_MIB * 1024 * 1024, ROUNDS)
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(file_bytes, rounds, quick));
}

/// The baseline's whole server: stream the body to a file, fsync, 204.
async fn raw_post(State(dir): State<PathBuf>, Path(name): Path<String>, body: Body) -> StatusCode {
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

struct Bench {
    client: reqwest::Client,
    base: String,
    files: Vec<(Bytes, String)>,
}

impl Bench {
    async fn raw(&self, round: usize) -> Duration {
        let started = Instant::now();
        for (i, (bytes, _)) in self.files.iter().enumerate() {
            let resp = self
                .client
                .post(format!("{}/raw/{round}-{i}", self.base))
                .body(bytes.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 204);
        }
        started.elapsed()
    }

    async fn tus(&self, patch_size: usize, checksum: bool) -> Duration {
        // The client's per-PATCH digests are computed before the clock starts: this measures
        // the server.
        let digests: Vec<Vec<String>> = self
            .files
            .iter()
            .map(|(bytes, _)| {
                bytes
                    .chunks(patch_size.min(bytes.len()))
                    .map(|part| STANDARD.encode(Sha256::digest(part)))
                    .collect()
            })
            .collect();
        let started = Instant::now();
        for ((bytes, sha), digests) in self.files.iter().zip(&digests) {
            let resp = self
                .client
                .post(format!("{}/v1/uploads", self.base))
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Length", bytes.len().to_string())
                .header(
                    "Upload-Metadata",
                    format!("sha256 {}", STANDARD.encode(sha)),
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
            let mut digests = digests.iter();
            while offset < bytes.len() {
                let end = (offset + patch_size).min(bytes.len());
                let part = bytes.slice(offset..end);
                let mut request = self
                    .client
                    .patch(&url)
                    .header("Tus-Resumable", "1.0.0")
                    .header("Content-Type", "application/offset+octet-stream")
                    .header("Upload-Offset", offset.to_string());
                let digest = digests.next().expect("one digest per PATCH");
                if checksum {
                    request = request.header("Upload-Checksum", format!("sha256 {digest}"));
                }
                let resp = request.body(part).send().await.unwrap();
                assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
                offset = end;
                if offset == bytes.len() {
                    assert_eq!(resp.headers()["doorstep-blob"], format!("sha256:{sha}"));
                }
            }
        }
        started.elapsed()
    }
}

async fn run(file_bytes: usize, rounds: usize, quick: bool) {
    let dir = tempfile::tempdir().unwrap();
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

    let mut files = Vec::new();
    for f in 0..FILES {
        let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ f as u64;
        let mut bytes: Vec<u8> = (0..file_bytes)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        bytes[..9].copy_from_slice(b"%PDF-1.7\n");
        let sha = hex::encode(Sha256::digest(&bytes));
        files.push((Bytes::from(bytes), sha));
    }
    let bench = Bench {
        client: reqwest::Client::new(),
        base,
        files,
    };
    let total_mb = (FILES * file_bytes) as f64 / 1e6;

    let modes = [
        "raw POST (baseline)",
        "tus, 1 PATCH/file",
        "tus, 4 MiB PATCHes + checksum",
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); modes.len()];
    for round in 0..rounds {
        for (m, samples) in times.iter_mut().enumerate() {
            // Content addressing would turn repeat uploads into no-ops: start each one empty.
            for (_, sha) in &bench.files {
                let sha = doorstep_registry::blobs::Sha256Hex::parse(sha).unwrap();
                uploads.blobs().delete(&sha).await.unwrap();
            }
            samples.push(match m {
                0 => bench.raw(round).await,
                1 => bench.tus(usize::MAX, false).await,
                _ => bench.tus(PATCH_CHUNK, true).await,
            });
            let _ = std::fs::remove_dir_all(&raw_dir);
            std::fs::create_dir_all(&raw_dir).unwrap();
        }
    }

    let median = |samples: &mut Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let medians: Vec<Duration> = times.iter_mut().map(median).collect();
    let mbps = |d: Duration| total_mb / d.as_secs_f64();
    println!(
        "Doorstep upload benchmark: {FILES} files × {:.1} MiB over loopback, sequential, median of {rounds} round(s){}",
        file_bytes as f64 / (1024.0 * 1024.0),
        if quick { " (quick mode)" } else { "" }
    );
    println!(
        "{:<32} {:>10} {:>10} {:>12}",
        "mode", "seconds", "MB/s", "vs raw"
    );
    for (mode, d) in modes.iter().zip(&medians) {
        println!(
            "{:<32} {:>10.3} {:>10.1} {:>11.2}×",
            mode,
            d.as_secs_f64(),
            mbps(*d),
            mbps(*d) / mbps(medians[0])
        );
    }
}
