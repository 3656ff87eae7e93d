//! gcp-storage-emulator (PyPI) for the Cloud Storage tests: one in-memory
//! emulator on `127.0.0.1` and a free port, in its own process group, killed
//! when dropped or when the test process exits; fresh buckets through its
//! JSON API.
//!
//! Its one quirk that real GCS does not share is patched at start (see
//! [`LAUNCHER`]): a simple (`uploadType=media`) upload whose body is empty,
//! or whose `Content-Type` is `application/json`, crashes the emulator's
//! request handler, which reads such a body as JSON metadata / as no data.
//! Real GCS stores both, so the launcher makes media uploads read their
//! body as the object's bytes, as GCS does. A media upload without any
//! `Content-Type` (how OpenDAL sends objects with no content type) gets
//! `"contentType": null` there, which clients cannot parse; GCS answers
//! `application/octet-stream`, and so does the patched emulator. It also
//! serves one request at a time with a listen backlog of 5, refusing
//! concurrent clients: the backlog is made longer. Last, it lacks the XML
//! API's multipart uploads, which OpenDAL uses for every object larger than
//! one part (8 MiB): the launcher adds them (initiate, upload part,
//! complete, abort; parts held in memory, joined on completion), so the
//! client's streaming is what the large-object test measures. Nothing else
//! changes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::Group;

/// How to install the emulator, for the failure of a test that needs it.
pub const INSTALL: &str = ".ci/install-gcs.sh (pip install gcp-storage-emulator)";

/// The Python program that starts the emulator with media uploads read as
/// raw bytes (the emulator's `_read_data` decides by `Content-Type` alone).
///
/// It also exits when the test process that started it is gone (a test
/// binary's shared emulator lives in a `static`, which is never dropped).
pub const LAUNCHER: &str = r#"
import os, socketserver, sys, threading, time
from gcp_storage_emulator import server

parent = os.getppid()

def exit_with_parent():
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)

threading.Thread(target=exit_with_parent, daemon=True).start()
from gcp_storage_emulator.handlers import objects

_read_data = server._read_data
_media_upload = objects._media_upload

def read_media_as_bytes(handler, query):
    if query.get("uploadType") == ["media"]:
        raw = server._decode_raw_data(server._read_raw_data(handler), handler)
        return raw or b""
    return _read_data(handler, query)

def media_upload_with_default_type(request, response, storage):
    headers = request._request_handler.headers
    if headers.get("Content-Type") is None:
        headers["Content-Type"] = "application/octet-stream"
    return _media_upload(request, response, storage)

# One request at a time, with a listen backlog of 5: concurrent clients
# are refused. A longer backlog makes them wait their turn instead.
socketserver.TCPServer.request_queue_size = 256
server._read_data = read_media_as_bytes
objects._media_upload = media_upload_with_default_type
# XML API multipart uploads (POST ?uploads, PUT ?partNumber&uploadId,
# POST ?uploadId, DELETE ?uploadId), which GCS serves and the emulator does
# not: parts are kept in memory and joined into one object on completion.
import re, uuid
from http import HTTPStatus
uploads = {}

def raw_body(request):
    handler = request._request_handler
    return server._decode_raw_data(server._read_raw_data(handler), handler) or b""

def xml(response, text):
    response["Content-Type"] = "application/xml"
    response._content = text

def initiate(request, response, storage, *args, **kwargs):
    raw_body(request)
    headers = request._request_handler.headers
    meta = {k[len("x-goog-meta-"):]: v for k, v in headers.items() if k.lower().startswith("x-goog-meta-")}
    upload_id = uuid.uuid4().hex
    uploads[upload_id] = {"parts": {}, "type": headers.get("Content-Type") or "application/octet-stream", "meta": meta}
    xml(response, "<InitiateMultipartUploadResult><Bucket>{}</Bucket><Key>{}</Key><UploadId>{}</UploadId></InitiateMultipartUploadResult>".format(
        request.params["bucket_name"], request.params["object_id"], upload_id))

def complete(request, response, storage, *args, **kwargs):
    upload = uploads.pop(request.query["uploadId"][0], None)
    listed = re.findall(rb"<PartNumber>(\d+)</PartNumber>", raw_body(request))
    if upload is None:
        response.status = HTTPStatus.NOT_FOUND
        return
    data = b"".join(upload["parts"][int(n)] for n in listed)
    bucket, key = request.params["bucket_name"], request.params["object_id"]
    extra = {"metadata": upload["meta"]} if upload["meta"] else None
    obj = objects._make_object_resource(request.base_url, bucket, key, upload["type"], str(len(data)), extra)
    obj = objects._checksums(data, obj)
    storage.create_file(bucket, key, data, obj)
    response["ETag"] = '"{}"'.format(obj["etag"])
    xml(response, "<CompleteMultipartUploadResult><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>".format(bucket, key, obj["etag"]))

def post(request, response, storage, *args, **kwargs):
    if "uploadId" in request.query:
        return complete(request, response, storage)
    return initiate(request, response, storage)

def put(request, response, storage, *args, **kwargs):
    if "uploadId" not in request.query:
        return xml_upload(request, response, storage)
    upload = uploads.get(request.query["uploadId"][0])
    if upload is None:
        response.status = HTTPStatus.NOT_FOUND
        return
    upload["parts"][int(request.query["partNumber"][0])] = raw_body(request)
    response["ETag"] = '"part-{}"'.format(request.query["partNumber"][0])

def abort(request, response, storage, *args, **kwargs):
    uploads.pop(request.query.get("uploadId", [""])[0], None)
    response.status = HTTPStatus.NO_CONTENT

xml_upload = objects.xml_upload
for _, methods in server.HANDLERS:
    if methods.get(server.PUT) is objects.xml_upload:
        methods[server.PUT] = put
        methods[server.POST] = post
        methods[server.DELETE] = abort

from gcp_storage_emulator.__main__ import main
main(sys.argv[1:])
"#;

/// A running emulator.
#[derive(Debug)]
pub struct GcsEmulator {
    host: String,
    _group: Group,
}

impl GcsEmulator {
    /// Starts one, logging to `<dir>/gcs-emulator.log`, and waits until its
    /// port opens.
    ///
    /// # Panics
    ///
    /// When the emulator is not installed or does not start within 30 s.
    pub fn start(dir: &Path) -> GcsEmulator {
        crate::tool::require_tool("python3", &["-c", "import gcp_storage_emulator"], INSTALL);
        let port = crate::port::free_port();
        let log = crate::log_file::log_file(dir, "gcs-emulator.log");
        let group = Group::spawn(
            Command::new("python3")
                .args(["-c", LAUNCHER, "start", "--host", "127.0.0.1", "--port"])
                .arg(port.to_string())
                .args(["--in-memory", "--quiet"])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log file"))
                .stderr(log),
        );
        assert!(
            crate::port::port_opens_within(port, Duration::from_secs(30)),
            "gcp-storage-emulator did not open port {port}: {}",
            crate::log_file::read_log(dir, "gcs-emulator.log")
        );
        GcsEmulator {
            host: format!("127.0.0.1:{port}"),
            _group: group,
        }
    }

    /// `127.0.0.1:<port>`, as `STORAGE_EMULATOR_HOST` takes it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host)
    }

    /// Creates bucket `name` through the JSON API.
    ///
    /// # Panics
    ///
    /// When the emulator refuses.
    pub async fn create_bucket(&self, name: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/storage/v1/b?project=nubes-test", self.url()))
            .json(&serde_json::json!({ "name": name }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("creating bucket {name}: {e}"));
        assert!(
            response.status().is_success(),
            "creating bucket {name}: {}",
            response.status()
        );
    }
}
