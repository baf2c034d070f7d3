//! tus uploads over real HTTP: the upload router served on a loopback port, driven by reqwest
//! (and by a raw TCP stream where a client must misbehave).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use doorstep_registry::blobs::{FsBlobStore, Sha256Hex};
use doorstep_registry::uploads::{upload_routes, UploadConfig, UploadInfo, UploadOwner, Uploads};
use reqwest::{Client, StatusCode};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Test stand-in for the authentication middleware: the owner comes from a header.
const OWNER_HEADER: &str = "x-test-owner";

async fn owner_from_header(mut request: Request, next: Next) -> Response {
    if let Some(owner) = request
        .headers()
        .get(OWNER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    {
        request.extensions_mut().insert(UploadOwner(owner));
    }
    next.run(request).await
}

struct Server {
    _dir: Option<tempfile::TempDir>,
    data: std::path::PathBuf,
    addr: SocketAddr,
    uploads: Uploads,
    client: Client,
}

impl Server {
    async fn start() -> Self {
        Self::with_config(UploadConfig::default()).await
    }

    async fn with_config(config: UploadConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Self::serve(Some(dir), data, config).await
    }

    /// Another server over the same data directory, as after a restart: nothing in memory.
    async fn restarted(&self) -> Self {
        Self::serve(None, self.data.clone(), UploadConfig::default()).await
    }

    async fn serve(
        dir: Option<tempfile::TempDir>,
        data: std::path::PathBuf,
        config: UploadConfig,
    ) -> Self {
        let blobs = Arc::new(FsBlobStore::in_data_dir(&data).unwrap());
        let uploads = Uploads::open(&data, config, blobs).unwrap();
        let app = upload_routes::<Uploads>()
            .with_state(uploads.clone())
            .layer(middleware::from_fn(owner_from_header));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server {
            _dir: dir,
            data,
            addr,
            uploads,
            client: Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn tus(&self, method: reqwest::Method, path: &str, owner: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("Tus-Resumable", "1.0.0")
            .header(OWNER_HEADER, owner)
    }

    /// POST an upload announcing `sha256`; returns its path.
    async fn create(&self, owner: &str, length: u64, sha256: &str) -> String {
        let resp = self.create_raw(owner, length, sha256).await;
        assert_eq!(
            resp.status(),
            StatusCode::CREATED,
            "{:?}",
            resp.text().await
        );
        assert_eq!(resp.headers()["tus-resumable"], "1.0.0");
        assert!(resp.headers().contains_key("upload-expires"));
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with("/v1/uploads/"), "{location}");
        location
    }

    async fn create_raw(&self, owner: &str, length: u64, sha256: &str) -> reqwest::Response {
        self.tus(reqwest::Method::POST, "/v1/uploads", owner)
            .header("Upload-Length", length.to_string())
            .header(
                "Upload-Metadata",
                format!(
                    "filename {},sha256 {}",
                    STANDARD.encode("scan.pdf"),
                    STANDARD.encode(sha256)
                ),
            )
            .send()
            .await
            .unwrap()
    }

    async fn patch(&self, path: &str, owner: &str, offset: u64, bytes: &[u8]) -> reqwest::Response {
        self.tus(reqwest::Method::PATCH, path, owner)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", offset.to_string())
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap()
    }

    async fn head(&self, path: &str, owner: &str) -> reqwest::Response {
        self.tus(reqwest::Method::HEAD, path, owner)
            .send()
            .await
            .unwrap()
    }

    async fn offset(&self, path: &str, owner: &str) -> u64 {
        let resp = self.head(path, owner).await;
        assert_eq!(resp.status(), StatusCode::OK);
        header_u64(&resp, "upload-offset")
    }
}

fn header_u64(resp: &reqwest::Response, name: &str) -> u64 {
    resp.headers()[name].to_str().unwrap().parse().unwrap()
}

async fn problem_type(resp: reqwest::Response) -> String {
    assert_eq!(
        resp.headers()["content-type"],
        "application/problem+json",
        "status {}",
        resp.status()
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    body["type"].as_str().unwrap().to_owned()
}

/// Deterministic pseudo-random bytes (xorshift), so files do not compress or repeat.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn pdf(len: usize, seed: u64) -> Vec<u8> {
    let mut bytes = noise(len, seed);
    bytes[..9].copy_from_slice(b"%PDF-1.7\n");
    bytes
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn options_describes_the_server() {
    let server = Server::start().await;
    let resp = server
        .client
        .request(reqwest::Method::OPTIONS, server.url("/v1/uploads"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let h = resp.headers();
    assert_eq!(h["tus-version"], "1.0.0");
    assert_eq!(h["tus-resumable"], "1.0.0");
    assert_eq!(
        h["tus-extension"],
        "creation,termination,expiration,checksum"
    );
    assert_eq!(h["tus-max-size"], "104857600");
    assert_eq!(h["tus-checksum-algorithm"], "sha256");
}

#[tokio::test]
async fn full_upload_in_three_patches_lands_in_the_blob_store() {
    let server = Server::start().await;
    let file = pdf(300_000, 1);
    let sha = sha256_hex(&file);
    let path = server.create("alice", file.len() as u64, &sha).await;

    let head = server.head(&path, "alice").await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["upload-offset"], "0");
    assert_eq!(head.headers()["upload-length"], "300000");
    assert_eq!(head.headers()["cache-control"], "no-store");
    assert_eq!(head.headers()["tus-resumable"], "1.0.0");
    assert!(head.headers().contains_key("upload-metadata"));

    let cuts = [0, 100_000, 250_000, 300_000];
    for (i, window) in cuts.windows(2).enumerate() {
        let resp = server
            .patch(
                &path,
                "alice",
                window[0] as u64,
                &file[window[0]..window[1]],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "PATCH {i}");
        assert_eq!(header_u64(&resp, "upload-offset"), window[1] as u64);
        assert_eq!(resp.headers()["tus-resumable"], "1.0.0");
        assert!(resp.headers().contains_key("upload-expires"));
        if i < 2 {
            assert!(!resp.headers().contains_key("doorstep-blob"));
            assert_eq!(server.offset(&path, "alice").await, window[1] as u64);
        } else {
            assert_eq!(resp.headers()["doorstep-blob"], format!("sha256:{sha}"));
            assert_eq!(resp.headers()["doorstep-blob-type"], "application/pdf");
        }
    }

    let head = server.head(&path, "alice").await;
    assert_eq!(head.headers()["upload-offset"], "300000");
    assert_eq!(head.headers()["doorstep-blob"], format!("sha256:{sha}"));

    let info: UploadInfo = server
        .client
        .get(server.url(&path))
        .header(OWNER_HEADER, "alice")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info.offset, 300_000);
    assert_eq!(info.length, 300_000);
    assert!(info.complete);
    assert_eq!(info.sha256, sha);
    assert_eq!(info.mime_type.as_deref(), Some("application/pdf"));
    assert_eq!(path, format!("/v1/uploads/{}", info.id));

    let blob = Sha256Hex::parse(&sha).unwrap();
    assert!(server.uploads.blobs().exists(&blob).await.unwrap());
    let stored = server
        .data
        .join("blobs")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(&sha);
    assert_eq!(std::fs::read(&stored).unwrap(), file);
    assert!(
        !server
            .data
            .join("uploads")
            .join(info.id.to_string())
            .join("data")
            .exists(),
        "staged bytes moved into the store"
    );

    let done = server
        .uploads
        .blob_of(&UploadOwner("alice".into()), info.id)
        .await
        .expect("finished upload");
    assert_eq!(done.sha256, blob);
    assert_eq!(done.size, 300_000);
    assert_eq!(done.mime_type, "application/pdf");
    assert_eq!(done.filename.as_deref(), Some("scan.pdf"));
    assert!(server
        .uploads
        .blob_of(&UploadOwner("bob".into()), info.id)
        .await
        .is_none());

    // The same file again (another agent): content addressing stores it once.
    let again = server.create("bob", file.len() as u64, &sha).await;
    let resp = server.patch(&again, "bob", 0, &file).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.headers()["doorstep-blob"], format!("sha256:{sha}"));
    assert_eq!(std::fs::read(&stored).unwrap(), file);
}

#[tokio::test]
async fn an_unfinished_upload_is_not_a_blob() {
    let server = Server::start().await;
    let file = pdf(1000, 2);
    let path = server.create("alice", 1000, &sha256_hex(&file)).await;
    server.patch(&path, "alice", 0, &file[..500]).await;
    let id = path.rsplit('/').next().unwrap().parse().unwrap();
    assert!(server
        .uploads
        .blob_of(&UploadOwner("alice".into()), id)
        .await
        .is_none());
}

/// Send a PATCH announcing `Content-Length: total` but only `sent` bytes, on a raw connection.
async fn partial_patch(
    server: &Server,
    path: &str,
    body: &[u8],
    total: usize,
) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {}\r\nTus-Resumable: 1.0.0\r\n{OWNER_HEADER}: alice\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n\
         Content-Length: {total}\r\n\r\n",
        server.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

/// HEAD until the server reports bytes (the PATCH connection is handled concurrently, so the
/// first HEAD may overtake it). Not a timing assertion: it only waits for progress.
async fn wait_for_progress(server: &Server, path: &str) -> u64 {
    for _ in 0..400 {
        let offset = server.offset(path, "alice").await;
        if offset > 0 {
            return offset;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server never recorded any byte of the cut PATCH");
}

#[tokio::test]
async fn upload_resumes_after_the_client_disconnects_mid_patch() {
    let server = Server::start().await;
    let n = 2 * 1024 * 1024;
    let file = pdf(n, 3);
    let sha = sha256_hex(&file);
    let path = server.create("alice", n as u64, &sha).await;

    let stream = partial_patch(&server, &path, &file[..n / 2], n).await;
    drop(stream);

    let offset = wait_for_progress(&server, &path).await;
    assert!(offset > 0 && offset <= (n / 2) as u64, "offset {offset}");
    assert_eq!(server.offset(&path, "alice").await, offset, "stable");

    let resp = server
        .patch(&path, "alice", offset, &file[offset as usize..])
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.headers()["doorstep-blob"], format!("sha256:{sha}"));
    let (len, _) = server
        .uploads
        .blobs()
        .open(&Sha256Hex::parse(&sha).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(len, n as u64);
}

/// The server keeps the file's SHA-256 running in memory between PATCHes. After a restart it
/// has none: the next PATCH must hash the staged bytes again, so the upload still ends with the
/// right SHA-256 — and a staged prefix that changed on disk is caught, not trusted.
#[tokio::test]
async fn a_resumed_upload_is_verified_after_the_running_hash_is_lost() {
    let server = Server::start().await;
    let n = 3 * 1024 * 1024;
    let file = pdf(n, 17);
    let sha = sha256_hex(&file);
    let path = server.create("alice", n as u64, &sha).await;

    let stream = partial_patch(&server, &path, &file[..n / 2], n).await;
    drop(stream);
    let offset = wait_for_progress(&server, &path).await;
    assert!(offset > 0 && offset <= (n / 2) as u64, "offset {offset}");

    // Restart: a fresh `Uploads` over the same data directory.
    let restarted = server.restarted().await;
    assert_eq!(restarted.offset(&path, "alice").await, offset);
    // Two more PATCHes: the first re-hashes the staged prefix, the second continues from the
    // hash the first kept.
    let middle = offset as usize + (n - offset as usize) / 2;
    let resp = restarted
        .patch(&path, "alice", offset, &file[offset as usize..middle])
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(!resp.headers().contains_key("doorstep-blob"));
    let resp = restarted
        .patch(&path, "alice", middle as u64, &file[middle..])
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "{:?}",
        resp.text().await
    );
    assert_eq!(resp.headers()["doorstep-blob"], format!("sha256:{sha}"));
    let stored = restarted
        .data
        .join("blobs")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(&sha);
    let stored = std::fs::read(stored).unwrap();
    assert_eq!(sha256_hex(&stored), sha);
    assert_eq!(stored, file);

    // The same, but a staged byte changes on disk while the server is down: the resumed upload
    // must not end as the announced blob.
    let file = pdf(n, 18);
    let sha = sha256_hex(&file);
    let path = restarted.create("alice", n as u64, &sha).await;
    let half = n / 2;
    let resp = restarted.patch(&path, "alice", 0, &file[..half]).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let id = path.rsplit('/').next().unwrap();
    let staged = restarted.data.join("uploads").join(id).join("data");
    let mut bytes = std::fs::read(&staged).unwrap();
    bytes[half / 2] ^= 0xff;
    std::fs::write(&staged, bytes).unwrap();
    let again = restarted.restarted().await;
    let resp = again
        .patch(&path, "alice", half as u64, &file[half..])
        .await;
    assert_eq!(resp.status().as_u16(), 460);
    assert_eq!(problem_type(resp).await, "/problems/checksum-mismatch");
    assert!(!again
        .uploads
        .blobs()
        .exists(&Sha256Hex::parse(&sha).unwrap())
        .await
        .unwrap());
}

#[tokio::test]
async fn a_stalled_patch_is_stopped_by_the_next_request_and_keeps_its_bytes() {
    let server = Server::start().await;
    let n = 1024 * 1024;
    let file = pdf(n, 4);
    let sha = sha256_hex(&file);
    let path = server.create("alice", n as u64, &sha).await;

    // The connection stays open, as when a phone loses signal without closing the socket.
    let _stalled = partial_patch(&server, &path, &file[..n / 4], n).await;
    let offset = wait_for_progress(&server, &path).await;
    assert!(offset > 0 && offset <= (n / 4) as u64, "offset {offset}");

    let resp = server
        .patch(&path, "alice", offset, &file[offset as usize..])
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.headers()["doorstep-blob"], format!("sha256:{sha}"));
}

#[tokio::test]
async fn wrong_offset_is_a_conflict_naming_the_server_offset() {
    let server = Server::start().await;
    let file = pdf(1000, 5);
    let path = server.create("alice", 1000, &sha256_hex(&file)).await;
    assert_eq!(
        server.patch(&path, "alice", 0, &file[..400]).await.status(),
        StatusCode::NO_CONTENT
    );
    let resp = server.patch(&path, "alice", 300, &file[300..]).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "/problems/upload-mismatch");
    assert!(body["detail"].as_str().unwrap().contains("400"), "{body}");
    assert_eq!(server.offset(&path, "alice").await, 400);
}

#[tokio::test]
async fn patch_checksum_mismatch_keeps_nothing_and_a_good_one_is_accepted() {
    let server = Server::start().await;
    let file = pdf(1000, 6);
    let path = server.create("alice", 1000, &sha256_hex(&file)).await;
    let checksum = |bytes: &[u8]| format!("sha256 {}", STANDARD.encode(Sha256::digest(bytes)));

    let resp = server
        .tus(reqwest::Method::PATCH, &path, "alice")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .header("Upload-Checksum", checksum(b"something else"))
        .body(file[..600].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 460);
    assert_eq!(problem_type(resp).await, "/problems/checksum-mismatch");
    assert_eq!(server.offset(&path, "alice").await, 0, "offset unchanged");

    let resp = server
        .tus(reqwest::Method::PATCH, &path, "alice")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .header("Upload-Checksum", "md5 AAAAAAAAAAAAAAAAAAAAAA==")
        .body(file[..600].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let resp = server
        .tus(reqwest::Method::PATCH, &path, "alice")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .header("Upload-Checksum", checksum(&file[..600]))
        .body(file[..600].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(header_u64(&resp, "upload-offset"), 600);
}

#[tokio::test]
async fn announced_sha256_mismatch_discards_the_upload() {
    let server = Server::start().await;
    let file = pdf(5000, 7);
    let wrong = sha256_hex(b"not the file");
    let path = server.create("alice", 5000, &wrong).await;
    let resp = server.patch(&path, "alice", 0, &file).await;
    assert_eq!(resp.status().as_u16(), 460);
    assert_eq!(problem_type(resp).await, "/problems/checksum-mismatch");
    assert_eq!(
        server.head(&path, "alice").await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(!server
        .uploads
        .blobs()
        .exists(&Sha256Hex::parse(&sha256_hex(&file)).unwrap())
        .await
        .unwrap());
}

#[tokio::test]
async fn disallowed_types_are_refused_and_discarded() {
    let server = Server::start().await;
    let mut elf = noise(4096, 8);
    elf[..4].copy_from_slice(b"\x7fELF");
    let mut exe = noise(4096, 9);
    exe[..2].copy_from_slice(b"MZ");
    let mut gif = noise(4096, 10);
    gif[..6].copy_from_slice(b"GIF89a"); // recognised, but not on the allow-list
    let text =
        b"just some plain text, not a document scan at all, long enough to sniff it".repeat(4);
    for (name, file) in [("elf", elf), ("exe", exe), ("gif", gif), ("text", text)] {
        let path = server
            .create("alice", file.len() as u64, &sha256_hex(&file))
            .await;
        let resp = server.patch(&path, "alice", 0, &file).await;
        assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{name}");
        assert_eq!(problem_type(resp).await, "/problems/unsupported-media-type");
        assert_eq!(
            server.head(&path, "alice").await.status(),
            StatusCode::NOT_FOUND,
            "{name} discarded"
        );
    }

    // Refused early: the first bytes suffice, the rest never has to cross the network.
    let mut big_exe = noise(100_000, 11);
    big_exe[..2].copy_from_slice(b"MZ");
    let path = server.create("alice", 100_000, &sha256_hex(&big_exe)).await;
    let resp = server.patch(&path, "alice", 0, &big_exe[..1000]).await;
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // PATCH bodies must be declared as tus bytes.
    let file = pdf(100, 12);
    let path = server.create("alice", 100, &sha256_hex(&file)).await;
    let resp = server
        .tus(reqwest::Method::PATCH, &path, "alice")
        .header("Content-Type", "application/pdf")
        .header("Upload-Offset", "0")
        .body(file)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn creation_is_checked() {
    let server = Server::with_config(UploadConfig {
        max_size: 10_000,
        ..UploadConfig::default()
    })
    .await;
    let sha = sha256_hex(b"x");
    let resp = server.create_raw("alice", 10_001, &sha).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem_type(resp).await, "/problems/too-large");
    assert_eq!(
        server.create_raw("alice", 10_000, &sha).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        server.create_raw("alice", 0, &sha).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        server.create_raw("alice", 10, "not-a-hash").await.status(),
        StatusCode::BAD_REQUEST
    );
    for length in ["-1", "1e3", ""] {
        let resp = server
            .tus(reqwest::Method::POST, "/v1/uploads", "alice")
            .header("Upload-Length", length)
            .header(
                "Upload-Metadata",
                format!("sha256 {}", STANDARD.encode(&sha)),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{length:?}");
    }
    let resp = server
        .tus(reqwest::Method::POST, "/v1/uploads", "alice")
        .header("Upload-Length", "100")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "sha256 is required");
}

#[tokio::test]
async fn bytes_past_upload_length_are_refused() {
    let server = Server::start().await;
    let file = pdf(1000, 13);
    let path = server.create("alice", 1000, &sha256_hex(&file)).await;
    assert_eq!(
        server.patch(&path, "alice", 0, &file[..900]).await.status(),
        StatusCode::NO_CONTENT
    );
    // Declared too long up front.
    let resp = server.patch(&path, "alice", 900, &[0u8; 200]).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Too long without a Content-Length (chunked): found while streaming, nothing kept.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![1u8; 60]), Ok(vec![2u8; 60])];
    let resp = server
        .tus(reqwest::Method::PATCH, &path, "alice")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "900")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(server.offset(&path, "alice").await, 900);
    let resp = server.patch(&path, "alice", 900, &file[900..]).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // Finished: nothing more fits.
    let resp = server.patch(&path, "alice", 1000, b"x").await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let chunked: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![3u8; 10])];
    let resp = server
        .tus(reqwest::Method::PATCH, &path, "alice")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "1000")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunked,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // An empty PATCH at the end just reports the finished upload.
    let resp = server.patch(&path, "alice", 1000, b"").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.headers().contains_key("doorstep-blob"));
}

#[tokio::test]
async fn uploads_are_private_to_their_owner() {
    let server = Server::start().await;
    let file = pdf(1000, 14);
    let path = server.create("alice", 1000, &sha256_hex(&file)).await;
    use reqwest::Method;
    for method in [Method::HEAD, Method::GET, Method::DELETE] {
        let resp = server
            .tus(method.clone(), &path, "mallory")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{method}");
    }
    let resp = server.patch(&path, "mallory", 0, &file).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(server.offset(&path, "alice").await, 0, "untouched");

    // Unknown and malformed ids look the same as someone else's.
    for other in [
        "/v1/uploads/0190b6a2-8a3e-7c1d-9f00-000000000001",
        "/v1/uploads/nope",
    ] {
        assert_eq!(
            server.head(other, "alice").await.status(),
            StatusCode::NOT_FOUND
        );
    }

    // No owner at all: 401, for every route but the discovery one.
    let anonymous = |method: Method, p: &str| {
        server
            .client
            .request(method, server.url(p))
            .header("Tus-Resumable", "1.0.0")
    };
    for (method, p) in [
        (Method::POST, "/v1/uploads"),
        (Method::HEAD, path.as_str()),
        (Method::GET, path.as_str()),
        (Method::PATCH, path.as_str()),
        (Method::DELETE, path.as_str()),
    ] {
        let resp = anonymous(method.clone(), p).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {p}");
        if method != Method::HEAD {
            assert_eq!(problem_type(resp).await, "/problems/unauthenticated");
        }
    }
}

#[tokio::test]
async fn other_tus_versions_are_refused() {
    let server = Server::start().await;
    let sha = sha256_hex(b"x");
    for version in [Some("0.2.2"), None] {
        let mut request = server
            .client
            .post(server.url("/v1/uploads"))
            .header(OWNER_HEADER, "alice")
            .header("Upload-Length", "10")
            .header(
                "Upload-Metadata",
                format!("sha256 {}", STANDARD.encode(&sha)),
            );
        if let Some(v) = version {
            request = request.header("Tus-Resumable", v);
        }
        let resp = request.send().await.unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::PRECONDITION_FAILED,
            "{version:?}"
        );
        assert_eq!(resp.headers()["tus-version"], "1.0.0");
        assert_eq!(resp.headers()["tus-resumable"], "1.0.0");
        assert_eq!(
            problem_type(resp).await,
            "/problems/unsupported-tus-version"
        );
    }
}

#[tokio::test]
async fn termination_removes_the_staged_bytes() {
    let server = Server::start().await;
    let file = pdf(1000, 15);
    let path = server.create("alice", 1000, &sha256_hex(&file)).await;
    server.patch(&path, "alice", 0, &file[..500]).await;
    let resp = server
        .tus(reqwest::Method::DELETE, &path, "alice")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.headers()["tus-resumable"], "1.0.0");
    assert_eq!(
        server.head(&path, "alice").await.status(),
        StatusCode::NOT_FOUND
    );
    let id = path.rsplit('/').next().unwrap();
    assert!(!server.data.join("uploads").join(id).exists());
}

#[tokio::test]
async fn expired_uploads_are_swept() {
    let server = Server::start().await;
    let file = pdf(1000, 16);
    let path = server.create("alice", 1000, &sha256_hex(&file)).await;
    server.patch(&path, "alice", 0, &file[..500]).await;
    let id = path.rsplit('/').next().unwrap();
    let staged = server.data.join("uploads").join(id);

    assert_eq!(server.uploads.sweep_expired().await, 0, "not yet expired");
    assert!(staged.exists());

    let tomorrow = SystemTime::now() + Duration::from_secs(25 * 60 * 60);
    assert_eq!(server.uploads.sweep_expired_at(tomorrow).await, 1);
    assert!(!staged.exists());
    assert_eq!(
        server.head(&path, "alice").await.status(),
        StatusCode::NOT_FOUND
    );
}

/// Peak resident memory of this process, in KiB (Linux; informational only).
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// 100 MiB in one streamed PATCH: the body is generated chunk by chunk on the client and never
/// held whole by either side. Prints the throughput; asserts nothing about time.
#[tokio::test]
async fn a_100_mib_upload_streams_through() {
    const SIZE: usize = 100 * 1024 * 1024;
    const CHUNK: usize = 256 * 1024;
    let server = Server::start().await;
    let chunk_of = |i: usize| {
        let mut bytes = noise(CHUNK, i as u64 + 100);
        if i == 0 {
            bytes[..9].copy_from_slice(b"%PDF-1.7\n");
        }
        bytes
    };
    let mut hasher = Sha256::new();
    for i in 0..SIZE / CHUNK {
        hasher.update(chunk_of(i));
    }
    let sha = hex::encode(hasher.finalize());
    let path = server.create("alice", SIZE as u64, &sha).await;

    let hwm_before = vm_hwm_kib();
    let stream = futures_util::stream::iter(
        (0..SIZE / CHUNK).map(move |i| Ok::<_, std::io::Error>(chunk_of(i))),
    );
    let started = Instant::now();
    let resp = server
        .tus(reqwest::Method::PATCH, &path, "alice")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "{:?}",
        resp.text().await
    );
    assert_eq!(resp.headers()["doorstep-blob"], format!("sha256:{sha}"));
    eprintln!(
        "100 MiB tus PATCH on loopback: {:.1} MB/s ({:.2} s, including fsync and the final SHA-256); \
         peak RSS {:?} KiB before, {:?} KiB after (client and server share the process)",
        SIZE as f64 / 1e6 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        hwm_before,
        vm_hwm_kib()
    );
    let (len, _) = server
        .uploads
        .blobs()
        .open(&Sha256Hex::parse(&sha).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(len, SIZE as u64);
}

#[test]
fn the_upload_routes_are_documented() {
    use doorstep_registry::uploads::http as u;
    use utoipa::OpenApi;
    #[derive(OpenApi)]
    #[openapi(paths(
        u::options_uploads,
        u::create_upload,
        u::head_upload,
        u::patch_upload,
        u::delete_upload,
        u::get_upload
    ))]
    struct Doc;
    let doc = serde_json::to_value(Doc::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let item = &paths["/v1/uploads/{id}"];
    for method in ["head", "patch", "delete", "get"] {
        assert_eq!(item[method]["tags"][0], "documents", "{method}");
    }
    for method in ["post", "options"] {
        assert!(paths["/v1/uploads"].get(method).is_some(), "{method}");
    }
}
