//! Presigned URLs checked offline: a service-account key generated here
//! signs (in-process, or as IAM `signBlob` behind an in-process fake of the
//! metadata server and IAM Credentials, the Cloud Run path), and every
//! signature is verified against the V4 canonical request rebuilt from the
//! URL by Google's documented rules (no real GCS here, and the emulator
//! checks no signature).

use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::EncodePrivateKey as _;
use rsa::sha2::{Digest as _, Sha256};
use rsa::signature::Verifier as _;

use super::*;

const EMAIL: &str = "signer@demo-project.iam.gserviceaccount.com";
const BUCKET: &str = "prod-uploads-7f3a";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex signature"))
        .collect()
}

/// A signer with a fresh key (1024 bits keeps the test fast; the signature
/// scheme does not depend on the size), and the key's public half.
fn key_signer(dir: &tempfile::TempDir) -> (Signing, rsa::RsaPublicKey) {
    let mut rng = rsa::rand_core::OsRng;
    let key = rsa::RsaPrivateKey::new(&mut rng, 1024).expect("key");
    let pem = key.to_pkcs8_pem(Default::default()).expect("pem");
    let file = dir.path().join("key.json");
    let json = serde_json::json!({
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": "k1",
        "private_key": pem.as_str(),
        "client_email": EMAIL,
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    });
    std::fs::write(&file, json.to_string()).expect("write key");
    let builder = Gcs::default()
        .bucket(BUCKET)
        .credential_path(file.to_str().expect("utf-8 path"))
        .disable_vm_metadata()
        .disable_config_load();
    let op = crate::bucket::connector::build(builder, BUCKET).expect("operator");
    (Signing::Operator(op), key.to_public_key())
}

/// Checks `url` is a V4 signature of `method` on `object` by `public`,
/// rebuilding the canonical request as Google documents it.
fn verify(url: &str, method: &str, object: &str, public: &rsa::RsaPublicKey) {
    let (base, query) = url.split_once('?').expect("a query");
    let path = base
        .strip_prefix("https://storage.googleapis.com")
        .expect("the XML API host");
    assert_eq!(path, format!("/{BUCKET}/{}", encode_key(object)));
    let mut pairs: Vec<&str> = query.split('&').collect();
    let signature = pairs
        .iter()
        .position(|p| p.starts_with("X-Goog-Signature="))
        .map(|i| pairs.remove(i))
        .and_then(|p| p.strip_prefix("X-Goog-Signature="))
        .expect("a signature");
    pairs.sort_unstable();
    let value = |name: &str| {
        pairs
            .iter()
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in {url}"))
            .to_owned()
    };
    assert_eq!(value("X-Goog-Algorithm"), "GOOG4-RSA-SHA256");
    assert_eq!(value("X-Goog-Expires"), "300");
    assert_eq!(value("X-Goog-SignedHeaders"), "host");
    let date = value("X-Goog-Date");
    let scope = format!("{}/auto/storage/goog4_request", &date[..8]);
    let credential = value("X-Goog-Credential");
    assert_eq!(
        credential,
        format!("{EMAIL}/{scope}")
            .replace('@', "%40")
            .replace('/', "%2F"),
        "the credential is the key's account and the scope, percent-encoded"
    );
    let canonical = format!(
        "{method}\n{path}\n{}\nhost:storage.googleapis.com\n\nhost\nUNSIGNED-PAYLOAD",
        pairs.join("&")
    );
    let to_sign = format!(
        "GOOG4-RSA-SHA256\n{date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let signature = Signature::try_from(unhex(signature).as_slice()).expect("signature bytes");
    VerifyingKey::<Sha256>::new(public.clone())
        .verify(to_sign.as_bytes(), &signature)
        .expect("the signature verifies against the canonical request");
}

#[tokio::test]
async fn a_key_signs_get_and_put_urls_that_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (signing, public) = key_signer(&dir);
    let key = "in box/file name+ü%20.txt";
    let expires = Duration::from_secs(300);
    let get = signing
        .presign(PresignMethod::Get, key, expires)
        .await
        .expect("presign get");
    assert_eq!(get.method, http::Method::GET);
    verify(&get.url, "GET", key, &public);
    let put = signing
        .presign(PresignMethod::Put, key, expires)
        .await
        .expect("presign put");
    assert_eq!(put.method, http::Method::PUT);
    verify(&put.url, "PUT", key, &public);
}

#[tokio::test]
async fn a_tampered_url_does_not_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (signing, public) = key_signer(&dir);
    let get = signing
        .presign(PresignMethod::Get, "a.txt", Duration::from_secs(300))
        .await
        .expect("presign");
    let other = get.url.replace("/a.txt?", "/b.txt?");
    let outcome = std::panic::catch_unwind(|| verify(&other, "GET", "b.txt", &public));
    assert!(outcome.is_err(), "another object's URL must not verify");
}

/// Google's side of Cloud Run signing, in-process: the metadata server's
/// token endpoint and IAM Credentials' `signBlob`, which signs with `key`
/// (the service account's Google-held key). Requests go nowhere else.
struct FakeGoogle {
    key: rsa::RsaPrivateKey,
    calls: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl opendal::HttpTransport for FakeGoogle {
    async fn fetch(
        &self,
        req: http::Request<opendal::Buffer>,
    ) -> opendal::Result<http::Response<opendal::HttpBody>> {
        use base64::Engine as _;
        use rsa::signature::{SignatureEncoding as _, Signer as _};
        let uri = req.uri().to_string();
        self.calls.lock().expect("calls").push(uri.clone());
        let token_path = format!("/computeMetadata/v1/instance/service-accounts/{EMAIL}/token");
        let sign_blob = format!(
            "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{EMAIL}:signBlob"
        );
        let (status, body) = if uri.contains(&token_path) {
            assert_eq!(req.headers()["metadata-flavor"], "Google");
            let token = serde_json::json!({
                "access_token": "metadata-token", "expires_in": 3600, "token_type": "Bearer"
            });
            (200, token)
        } else if uri == sign_blob {
            assert_eq!(req.headers()["authorization"], "Bearer metadata-token");
            let request: serde_json::Value =
                serde_json::from_slice(&req.body().to_bytes()).expect("signBlob JSON");
            let b64 = base64::engine::general_purpose::STANDARD;
            let payload = b64
                .decode(request["payload"].as_str().expect("payload"))
                .expect("base64 payload");
            let signature = rsa::pkcs1v15::SigningKey::<Sha256>::new(self.key.clone())
                .sign(&payload)
                .to_vec();
            let signed = serde_json::json!({"keyId": "k1", "signedBlob": b64.encode(signature)});
            (200, signed)
        } else {
            (404, serde_json::json!({"error": uri}))
        };
        let bytes = opendal::Buffer::from(serde_json::to_vec(&body).expect("json"));
        let size = bytes.len() as u64;
        let body = opendal::HttpBody::new(futures_util::stream::iter([Ok(bytes)]), Some(size));
        Ok(http::Response::builder()
            .status(status)
            .body(body)
            .expect("response"))
    }
}

#[tokio::test]
async fn on_cloud_run_iam_signs_as_the_metadata_servers_account() {
    let mut rng = rsa::rand_core::OsRng;
    let key = rsa::RsaPrivateKey::new(&mut rng, 1024).expect("key");
    let public = key.to_public_key();
    let calls = std::sync::Arc::default();
    let transport = opendal::HttpTransporter::new(FakeGoogle {
        key,
        calls: std::sync::Arc::clone(&calls),
    });
    let op = metadata_operator(BUCKET, EMAIL)
        .expect("operator")
        .with_context(opendal::OperationContext::new().with_http_transport(transport));
    let signing = Signing::Operator(op);
    let key = "in box/file name+ü%20.txt";
    for (method, name) in [(PresignMethod::Get, "GET"), (PresignMethod::Put, "PUT")] {
        let signed = signing
            .presign(method, key, Duration::from_secs(300))
            .await
            .unwrap_or_else(|e| panic!("presign {name}: {e}"));
        verify(&signed.url, name, key, &public);
    }
    let calls = calls.lock().expect("calls").clone();
    assert!(
        calls.iter().any(|c| c.ends_with(":signBlob")),
        "IAM signed: {calls:?}"
    );
    assert!(
        calls
            .iter()
            .all(|c| c.contains("/computeMetadata/") || c.ends_with(":signBlob")),
        "only the metadata server and IAM were asked: {calls:?}"
    );
}

#[test]
fn object_names_are_encoded_segment_by_segment() {
    assert_eq!(
        encode_key("a b/c+d/ü/%2F/x~y_z.-"),
        "a%20b/c%2Bd/%C3%BC/%252F/x~y_z.-"
    );
}

#[tokio::test]
async fn without_key_or_metadata_server_signing_says_how_to_enable_it() {
    if std::env::var_os("GCE_METADATA_HOST").is_some() {
        return; // a metadata server may answer: not this test's subject
    }
    let err = Signing::metadata(BUCKET)
        .presign(PresignMethod::Get, "a.txt", Duration::from_secs(60))
        .await
        .expect_err("no signer off Google Cloud");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(
        err.message().contains("GOOGLE_APPLICATION_CREDENTIALS"),
        "{err}"
    );
    assert!(err.message().contains("signBlob"), "{err}");
}
