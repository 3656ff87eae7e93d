//! The generated SAM template passes `cfn-lint` and `aws-sam-translator`
//! (both from PyPI, installed by `.ci/install-aws.sh`; the tests that run them
//! are ignored by a plain `cargo test` and fail loudly when run without them).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test setup should fail loudly.

use std::process::Command;

use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent, StorageEvent};
use nubes_deploy::aws::{Architecture, SamOptions, sam_template};
use nubes_test_support::tool::require_tool;

async fn q(_: QueueMessage, _: Context) -> Result<(), BoxError> {
    Ok(())
}
async fn s(_: StorageEvent, _: Context) -> Result<(), BoxError> {
    Ok(())
}
async fn t(_: ScheduledEvent, _: Context) -> Result<(), BoxError> {
    Ok(())
}

fn app() -> App {
    let router = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
    App::new()
        .http(router)
        .on_queue("orders", q)
        .on_queue("events.fifo", q)
        .on_storage("uploads", s)
        .on_schedule("nightly", "0 3 * * *", t)
        .on_schedule("weekdays", "*/15 9-17 * * 1-5", t)
}

fn write_template(options: &SamOptions) -> (tempfile::TempDir, std::path::PathBuf) {
    let template = sam_template(&app().describe(), options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("template.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&template).unwrap()).unwrap();
    (dir, path)
}

#[test]
#[ignore = "needs cfn-lint: .ci/install-aws.sh"]
fn template_passes_cfn_lint() {
    require_tool(
        "cfn-lint",
        &["--version"],
        "run .ci/install-aws.sh (pip install cfn-lint)",
    );
    for architecture in [Architecture::Arm64, Architecture::X86_64] {
        let mut options = SamOptions::default();
        options.architecture = architecture;
        let (_dir, path) = write_template(&options);
        let out = Command::new("cfn-lint").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "cfn-lint failed:\n{}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&path).unwrap()
        );
    }
}

const TRANSLATE: &str = r#"
import json, sys
from samtranslator.translator.transform import transform

class NoManagedPolicies:
    def load(self):
        return {}

template = json.load(open(sys.argv[1]))
# What `sam package` / `sam deploy` do first: upload the code folder to S3.
for resource in template["Resources"].values():
    if resource["Type"] == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = "s3://artifacts/echo.zip"
out = transform(template, {}, NoManagedPolicies())
print(json.dumps(sorted(r["Type"] for r in out["Resources"].values())))
"#;

#[test]
#[ignore = "needs python3 with aws-sam-translator: .ci/install-aws.sh"]
fn template_transforms_with_sam_translator() {
    require_tool(
        "python3",
        &["-c", "import samtranslator"],
        "run .ci/install-aws.sh (pip install aws-sam-translator)",
    );
    let (_dir, path) = write_template(&SamOptions::default());
    // The translator only needs a region name; it makes no AWS call.
    let out = Command::new("python3")
        .arg("-c")
        .arg(TRANSLATE)
        .arg(&path)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sam-translator failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let types: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    for expected in [
        "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping",
        "AWS::ApiGatewayV2::Api",
        "AWS::Events::Rule",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} missing from {types:?}"
        );
    }
    // Two queues with their dead-letter queues, plus the async dead-letter queue.
    assert_eq!(
        types.iter().filter(|t| *t == "AWS::SQS::Queue").count(),
        5,
        "{types:?}"
    );
}

#[test]
fn literal_prefix_names_every_resource() {
    let mut options = SamOptions::default();
    options.name_prefix = Some("acme-prod-".into());
    let t = sam_template(&app().describe(), &options).unwrap();
    let r = &t["Resources"];
    assert_eq!(
        r["QueueOrders"]["Properties"]["QueueName"],
        "acme-prod-orders"
    );
    assert_eq!(
        r["QueueEventsFifoDeadLetters"]["Properties"]["QueueName"],
        "acme-prod-events-dlq.fifo"
    );
    assert_eq!(
        r["BucketUploads"]["Properties"]["BucketName"],
        "acme-prod-uploads"
    );
    let f = &r["Function"]["Properties"];
    assert_eq!(
        f["Environment"]["Variables"]["NUBES_AWS_NAME_PREFIX"],
        "acme-prod-"
    );
    assert_eq!(
        f["Events"]["ScheduleNightly"]["Properties"]["Name"],
        "acme-prod-nightly"
    );
    assert_eq!(
        f["Events"]["ScheduleWeekdays"]["Properties"]["Schedule"],
        "cron(0/15 9-17 ? * MON,TUE,WED,THU,FRI *)"
    );
    assert_eq!(f["Runtime"], "provided.al2023");
    assert_eq!(f["Handler"], "bootstrap");
}
