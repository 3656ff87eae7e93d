//! The AWS SAM template that deploys an app as one Lambda function (served by
//! `nubes-aws`) with an event source per trigger. The CLI calls
//! [`sam_template`]; it is plain data (JSON, which SAM and CloudFormation
//! accept as well as YAML).

mod cron;

use std::collections::BTreeSet;

use nubes_core::{AppDescription, Error, TriggerKind};
use serde_json::{Map, Value, json};

pub use cron::aws_cron;

use crate::schedule;

/// The CPU architecture of the function (and of the binary you build).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Architecture {
    /// `x86_64` (build with `cargo lambda build --release`).
    X86_64,
    /// `arm64`, Graviton (build with `cargo lambda build --release --arm64`).
    #[default]
    Arm64,
}

impl Architecture {
    fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

/// Choices the template leaves to the deployer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SamOptions {
    /// Folder holding the `bootstrap` binary (`target/lambda/<bin>/` after
    /// `cargo lambda build`).
    pub code_uri: String,
    /// CPU architecture.
    pub architecture: Architecture,
    /// Memory in MB.
    pub memory_mb: u32,
    /// Function timeout in seconds (SQS visibility timeouts are six times this).
    pub timeout_secs: u32,
    /// Deliveries of an SQS message before it moves to the queue's dead-letter queue.
    pub max_receive_count: u32,
    /// Literal prefix of every queue, bucket and rule name; `None` uses the
    /// stack name and a dash (`${AWS::StackName}-`). Bucket names are global
    /// and lower-case, so apps with storage triggers want a lower-case,
    /// unique prefix.
    pub name_prefix: Option<String>,
}

impl Default for SamOptions {
    fn default() -> Self {
        SamOptions {
            code_uri: "target/lambda/bootstrap/".to_owned(),
            architecture: Architecture::default(),
            memory_mb: 256,
            timeout_secs: 30,
            max_receive_count: 5,
            name_prefix: None,
        }
    }
}

/// The SAM template for `app`: one `AWS::Serverless::Function`
/// (`provided.al2023`, handler `bootstrap`) with an HTTP API catch-all route
/// when the app serves HTTP, an SQS queue (with a dead-letter queue and
/// `ReportBatchItemFailures`) per queue trigger, an S3 bucket per storage
/// trigger and an EventBridge schedule per schedule trigger. Asynchronous
/// events that keep failing land in a dead-letter queue of the function.
///
/// ```
/// use nubes_core::{AppDescription, TriggerDescription, TriggerKind};
/// use nubes_deploy::aws::{SamOptions, sam_template};
///
/// let app = AppDescription {
///     resources: Vec::new(),
///     http: true,
///     triggers: vec![TriggerDescription { kind: TriggerKind::Schedule, name: "nightly".into(), schedule: Some("0 3 * * *".into()) }],
/// };
/// let template = sam_template(&app, &SamOptions::default()).unwrap();
/// let events = &template["Resources"]["Function"]["Properties"]["Events"];
/// assert_eq!(events["ScheduleNightly"]["Properties"]["Schedule"], "cron(0 3 * * ? *)");
/// assert_eq!(events["HttpApi"]["Type"], "HttpApi");
/// ```
pub fn sam_template(app: &AppDescription, options: &SamOptions) -> Result<Value, Error> {
    let prefix = match &options.name_prefix {
        Some(p) => Value::String(p.clone()),
        None => json!({ "Fn::Sub": "${AWS::StackName}-" }),
    };
    let name = |suffix: &str| match &options.name_prefix {
        Some(p) => Value::String(format!("{p}{suffix}")),
        None => json!({ "Fn::Sub": format!("${{AWS::StackName}}-{suffix}") }),
    };
    let mut resources = Map::new();
    let mut events = Map::new();
    let mut ids = LogicalIds::default();
    let mut asynchronous = false;

    if app.http {
        events.insert("HttpApi".into(), json!({ "Type": "HttpApi" }));
    }
    for trigger in &app.triggers {
        match trigger.kind {
            TriggerKind::Queue => {
                let id = ids.make("Queue", &trigger.name);
                let dlq = format!("{id}DeadLetters");
                let fifo = trigger.name.ends_with(".fifo");
                let base = trigger.name.trim_end_matches(".fifo");
                let mut queue = json!({
                    "QueueName": name(&trigger.name),
                    "VisibilityTimeout": options.timeout_secs.saturating_mul(6),
                    "RedrivePolicy": {
                        "deadLetterTargetArn": { "Fn::GetAtt": [dlq, "Arn"] },
                        "maxReceiveCount": options.max_receive_count,
                    },
                });
                let dlq_name = if fifo {
                    format!("{base}-dlq.fifo")
                } else {
                    format!("{base}-dlq")
                };
                let mut dead =
                    json!({ "QueueName": name(&dlq_name), "MessageRetentionPeriod": 1_209_600 });
                if fifo {
                    queue["FifoQueue"] = json!(true);
                    dead["FifoQueue"] = json!(true);
                }
                resources.insert(
                    id.clone(),
                    json!({ "Type": "AWS::SQS::Queue", "Properties": queue }),
                );
                resources.insert(
                    dlq,
                    json!({ "Type": "AWS::SQS::Queue", "Properties": dead }),
                );
                events.insert(
                    id.clone(),
                    json!({
                        "Type": "SQS",
                        "Properties": {
                            "Queue": { "Fn::GetAtt": [id, "Arn"] },
                            "BatchSize": 10,
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        },
                    }),
                );
            }
            TriggerKind::Storage => {
                asynchronous = true;
                let id = ids.make("Bucket", &trigger.name);
                resources.insert(
                    id.clone(),
                    json!({
                        "Type": "AWS::S3::Bucket",
                        "Properties": { "BucketName": name(&trigger.name) },
                    }),
                );
                events.insert(id.clone(), json!({
                    "Type": "S3",
                    "Properties": {
                        "Bucket": { "Ref": id },
                        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:ObjectRestore:*"],
                    },
                }));
            }
            TriggerKind::Schedule => {
                asynchronous = true;
                let id = ids.make("Schedule", &trigger.name);
                let cron = aws_cron(&schedule::cron(trigger)?)?;
                events.insert(id, json!({
                    "Type": "Schedule",
                    "Properties": { "Schedule": cron, "Name": name(&trigger.name), "Enabled": true },
                }));
            }
            other => {
                return Err(Error::config(format!(
                    "{other} triggers have no AWS event source"
                )));
            }
        }
    }

    let mut function = json!({
        "CodeUri": options.code_uri,
        "Handler": "bootstrap",
        "Runtime": "provided.al2023",
        "Architectures": [options.architecture.as_str()],
        "MemorySize": options.memory_mb,
        "Timeout": options.timeout_secs,
        "LoggingConfig": { "LogFormat": "JSON" },
        "Environment": { "Variables": { "NUBES_AWS_NAME_PREFIX": prefix } },
        "Events": events,
    });
    if asynchronous {
        resources.insert(
            "AsyncDeadLetters".into(),
            json!({
                "Type": "AWS::SQS::Queue",
                "Properties": { "MessageRetentionPeriod": 1_209_600 },
            }),
        );
        function["DeadLetterQueue"] = json!({
            "Type": "SQS",
            "TargetArn": { "Fn::GetAtt": ["AsyncDeadLetters", "Arn"] },
        });
    }
    resources.insert(
        "Function".into(),
        json!({ "Type": "AWS::Serverless::Function", "Properties": function }),
    );

    let mut outputs = Map::new();
    outputs.insert(
        "FunctionArn".into(),
        json!({ "Value": { "Fn::GetAtt": ["Function", "Arn"] } }),
    );
    if app.http {
        outputs.insert("HttpApiUrl".into(), json!({
            "Value": { "Fn::Sub": "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/" },
        }));
    }
    Ok(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "nubes app: one Lambda function serving every trigger",
        "Resources": resources,
        "Outputs": outputs,
    }))
}

/// CloudFormation logical ids are alphanumeric; trigger names may hold `-_.`.
#[derive(Default)]
struct LogicalIds {
    used: BTreeSet<String>,
}

impl LogicalIds {
    fn make(&mut self, kind: &str, name: &str) -> String {
        let mut id = kind.to_owned();
        for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                id.push(first.to_ascii_uppercase());
                id.extend(chars);
            }
        }
        let mut unique = id.clone();
        let mut n = 2;
        while !self.used.insert(unique.clone()) {
            unique = format!("{id}{n}");
            n += 1;
        }
        unique
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubes_core::TriggerDescription;

    fn trigger(kind: TriggerKind, name: &str, schedule: Option<&str>) -> TriggerDescription {
        TriggerDescription {
            kind,
            name: name.into(),
            schedule: schedule.map(Into::into),
        }
    }

    #[test]
    fn queues_get_dead_letters_and_batch_failures() {
        let app = AppDescription {
            resources: Vec::new(),
            http: false,
            triggers: vec![
                trigger(TriggerKind::Queue, "orders", None),
                trigger(TriggerKind::Queue, "events.fifo", None),
            ],
        };
        let t = sam_template(&app, &SamOptions::default()).unwrap();
        let r = &t["Resources"];
        assert_eq!(
            r["QueueOrders"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0],
            "QueueOrdersDeadLetters"
        );
        assert_eq!(r["QueueEventsFifo"]["Properties"]["FifoQueue"], true);
        assert_eq!(
            r["QueueEventsFifoDeadLetters"]["Properties"]["FifoQueue"],
            true
        );
        let ev = &r["Function"]["Properties"]["Events"]["QueueOrders"];
        assert_eq!(
            ev["Properties"]["FunctionResponseTypes"][0],
            "ReportBatchItemFailures"
        );
        assert!(r["Function"]["Properties"].get("DeadLetterQueue").is_none());
        assert!(t["Outputs"].get("HttpApiUrl").is_none());
    }

    #[test]
    fn logical_ids_are_alphanumeric_and_unique() {
        let mut ids = LogicalIds::default();
        assert_eq!(ids.make("Queue", "my-orders"), "QueueMyOrders");
        assert_eq!(ids.make("Queue", "my_orders"), "QueueMyOrders2");
    }
}
