//! Redaction: removes secrets from a bundle before it is written or diagnosed.
//!
//! - Structural: environment variable values, `repositoryCredentials`, secret-bearing
//!   log-driver options and proxy settings are replaced. Names are kept, and so are secret
//!   ARNs in `secrets[].valueFrom` (they name the secret, not its value).
//! - Free text: every string is scanned for credentials (AWS access keys and secret keys,
//!   bearer tokens, JWTs, passwords in URLs and `password=` pairs, private keys), and only
//!   those spans are replaced.
//! - The AWS account id is pseudonymised consistently across the bundle.
//!
//! The manifest records what was redacted, as counts per kind, never the values. Redaction is
//! designed never to change a diagnosis: names, codes, stop reasons and the words around a
//! secret stay as they were.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::bundle::{Bundle, Call};

/// What stands in for a removed value.
pub const REDACTED: &str = "<redacted>";

struct SpanPattern {
    kind: &'static str,
    regex: Regex,
    /// The capture group to replace; 0 replaces the whole match.
    group: usize,
}

static SPAN_PATTERNS: LazyLock<Vec<SpanPattern>> = LazyLock::new(|| {
    let pattern = |kind, regex: &str, group| SpanPattern {
        kind,
        regex: Regex::new(regex).expect("built-in pattern is valid"),
        group,
    };
    vec![
        pattern(
            "private-key",
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)",
            0,
        ),
        pattern(
            "aws-access-key",
            r"\b(?:AKIA|ASIA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b",
            0,
        ),
        pattern(
            "aws-secret-key",
            r#"(?i)(?:aws_secret_access_key|secret_access_key|secretaccesskey)["'\s]*[:=]\s*["']?([A-Za-z0-9/+]{40})"#,
            1,
        ),
        pattern(
            "jwt",
            r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}",
            0,
        ),
        pattern(
            "bearer-token",
            r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{8,}=*)",
            1,
        ),
        pattern(
            "url-password",
            r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@",
            1,
        ),
        pattern(
            "password",
            r#"(?i)\b(?:password|passwd|pwd|client_secret|secret_key)\s*=\s*["']?([^\s"'&,;]{4,})"#,
            1,
        ),
    ]
});

static ACCOUNT_IN_ARN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):").expect("valid"));
static ACCOUNT_IN_ECR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{12})\.dkr\.ecr\.").expect("valid"));

/// Log-driver option names whose values are credentials.
static SECRET_OPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)token|password|passwd|secret|credential|api[-_]?key|apikey|auth|dsn|license")
        .expect("valid")
});

/// Redacts in place and fills `manifest.redaction`.
pub fn redact(bundle: &mut Bundle) {
    let mut redactor = Redactor::for_bundle(bundle);
    let calls = std::mem::take(&mut bundle.calls);
    bundle.calls = calls.into_iter().map(|call| redactor.call(call)).collect();
    if let Some(account) = &bundle.manifest.account {
        bundle.manifest.account = Some(redactor.text(account));
    }
    for task in &mut bundle.manifest.selection.tasks {
        *task = redactor.text(task);
    }
    bundle.manifest.redaction.enabled = true;
    // Accounts pseudonymised (how many distinct ids, not how many places).
    let accounts = u64::try_from(redactor.accounts.len()).unwrap_or(u64::MAX);
    if accounts > 0 {
        redactor.counts.insert("account-id", accounts);
    }
    for (kind, count) in redactor.counts {
        *bundle
            .manifest
            .redaction
            .counts
            .entry(kind.to_owned())
            .or_insert(0) += count;
    }
}

/// The redaction of one bundle: its account pseudonyms and what it has replaced so far.
pub struct Redactor {
    accounts: Vec<(String, String)>,
    pub counts: BTreeMap<&'static str, u64>,
}

impl Redactor {
    /// Finds every account id in the bundle and gives each a pseudonym, in sorted order.
    pub fn for_bundle(bundle: &Bundle) -> Redactor {
        let mut found = std::collections::BTreeSet::new();
        found.extend(bundle.manifest.account.clone());
        let mut scan = |text: &str| {
            for regex in [&*ACCOUNT_IN_ARN, &*ACCOUNT_IN_ECR] {
                for captures in regex.captures_iter(text) {
                    found.insert(captures[1].to_owned());
                }
            }
        };
        for call in &bundle.calls {
            if let Some(raw) = &call.response {
                scan(raw.get());
            }
            scan(&call.request.to_string());
            if let Some(error) = &call.error {
                scan(&error.message);
            }
        }
        let accounts = found
            .into_iter()
            .enumerate()
            .map(|(index, account)| (account, format!("{:012}", index + 1)))
            .collect();
        Redactor {
            accounts,
            counts: BTreeMap::new(),
        }
    }

    /// Redacts credential spans and pseudonymises account ids in free text.
    pub fn text(&mut self, text: &str) -> String {
        let mut out = text.to_owned();
        for pattern in SPAN_PATTERNS.iter() {
            if !pattern.regex.is_match(&out) {
                continue;
            }
            let mut replaced = 0;
            out = pattern
                .regex
                .replace_all(&out, |captures: &regex::Captures<'_>| {
                    replaced += 1;
                    let whole = captures.get(0).map_or("", |m| m.as_str());
                    match captures.get(pattern.group) {
                        Some(span) if pattern.group > 0 => {
                            let start = span.start() - captures.get(0).map_or(0, |m| m.start());
                            format!(
                                "{}{REDACTED}{}",
                                &whole[..start],
                                &whole[start + span.len()..]
                            )
                        }
                        _ => REDACTED.to_owned(),
                    }
                })
                .into_owned();
            *self.counts.entry(pattern.kind).or_insert(0) += replaced;
        }
        for (account, pseudonym) in &self.accounts {
            if out.contains(account.as_str()) {
                out = out.replace(account.as_str(), pseudonym);
            }
        }
        out
    }

    /// Redacts a JSON value: structure first, then every string.
    pub fn value(&mut self, value: &mut Value) {
        match value {
            Value::String(text) => *text = self.text(text),
            Value::Array(items) => items.iter_mut().for_each(|item| self.value(item)),
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    match key.as_str() {
                        "environment" => self.name_value_list(child, "env-value"),
                        "proxyConfiguration" => {
                            if let Some(properties) = child.get_mut("properties") {
                                self.name_value_list(properties, "proxy-setting");
                            }
                        }
                        "repositoryCredentials" => {
                            if let Some(parameter) = child.get_mut("credentialsParameter") {
                                *parameter = Value::String(format!(
                                    "{REDACTED} (secret {})",
                                    secret_name(parameter.as_str().unwrap_or_default())
                                ));
                                *self.counts.entry("repository-credentials").or_insert(0) += 1;
                            }
                        }
                        "logConfiguration" => {
                            if let Some(Value::Object(options)) = child.get_mut("options") {
                                for (name, option) in options.iter_mut() {
                                    if SECRET_OPTION.is_match(name) && !name.starts_with("awslogs-")
                                    {
                                        *option = Value::String(REDACTED.to_owned());
                                        *self.counts.entry("log-option").or_insert(0) += 1;
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                    self.value(child);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// `[{"name": …, "value": …}]`: replaces each value, keeps each name.
    fn name_value_list(&mut self, list: &mut Value, kind: &'static str) {
        let Value::Array(items) = list else { return };
        for item in items {
            if let Some(value) = item.get_mut("value")
                && value.as_str().is_some_and(|v| v != REDACTED)
            {
                *value = Value::String(REDACTED.to_owned());
                *self.counts.entry(kind).or_insert(0) += 1;
            }
        }
    }

    fn call(&mut self, mut call: Call) -> Call {
        self.value(&mut call.request);
        if let Some(error) = &mut call.error {
            error.message = self.text(&error.message);
        }
        if let Some(raw) = call.response.take() {
            let mut value: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
            self.value(&mut value);
            let redacted = serde_json::value::to_raw_value(&value).unwrap_or(raw);
            match call.known_operation() {
                // The typed view is rebuilt from the redacted text; it has the same shape.
                Some(operation) => match Call::new(operation, call.request.clone(), redacted) {
                    Ok(mut rebuilt) => {
                        rebuilt.source_file = call.source_file.take();
                        return rebuilt;
                    }
                    Err(_) => return call,
                },
                None => call.response = Some(redacted),
            }
        }
        call
    }
}

/// `arn:aws:secretsmanager:…:secret:prod/db-AbCdEf` → `prod/db`; SSM parameters keep their path.
fn secret_name(arn: &str) -> String {
    match arn.split_once(":secret:") {
        Some((_, name)) => match name.rsplit_once('-') {
            Some((base, suffix)) if suffix.len() == 6 => base.to_owned(),
            _ => name.to_owned(),
        },
        None => arn.rsplit(':').next().unwrap_or(arn).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_text(input: &str, expect: &str) {
        let mut redactor = Redactor {
            accounts: vec![("123456789012".to_owned(), "000000000001".to_owned())],
            counts: BTreeMap::new(),
        };
        assert_eq!(redactor.text(input), expect);
    }

    #[test]
    fn credential_spans() {
        check_text("key AKIAIOSFODNN7EXAMPLE used", "key <redacted> used");
        check_text(
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = <redacted>",
        );
        check_text(
            "Authorization: Bearer 9f8e7d6c5b4a39281706",
            "Authorization: Bearer <redacted>",
        );
        check_text(
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "token <redacted>",
        );
        check_text(
            "postgres://billing:S3cr3t!pw@db.internal:5432/billing",
            "postgres://billing:<redacted>@db.internal:5432/billing",
        );
        check_text("login password=hunter22 ok", "login password=<redacted> ok");
        check_text(
            "-----BEGIN RSA PRIVATE KEY-----MIIEow…-----END RSA PRIVATE KEY----- tail",
            "<redacted> tail",
        );
        check_text("-----BEGIN OPENSSH PRIVATE KEY-----", "<redacted>");
        check_text(
            "arn:aws:ecs:eu-west-1:123456789012:task/prod/1 from 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api",
            "arn:aws:ecs:eu-west-1:000000000001:task/prod/1 from 000000000001.dkr.ecr.eu-west-1.amazonaws.com/api",
        );
    }

    #[test]
    fn diagnostic_wording_is_kept() {
        for text in [
            "/docker-entrypoint.sh: line 5: API_KEY: unbound variable",
            "Error: Missing required environment variable DATABASE_URL",
            "KeyError: 'REDIS_URL'",
            "+ exec /app/bin/billing --port \"$PORT\" --api-key \"$API_KEY\"",
            "CannotPullContainerError: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
            "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:000000000001:targetgroup/web-tg/1)",
        ] {
            check_text(text, text);
        }
    }

    #[test]
    fn structural_redaction_keeps_names() {
        let mut redactor = Redactor {
            accounts: Vec::new(),
            counts: BTreeMap::new(),
        };
        let mut value = serde_json::json!({"containerDefinitions": [{
            "name": "api",
            "environment": [{"name": "DATABASE_URL", "value": "postgres://db"}, {"name": "LOG_LEVEL", "value": "info"}],
            "secrets": [{"name": "STRIPE_KEY", "valueFrom": "arn:aws:secretsmanager:eu-west-1:1:secret:prod/stripe-AbCdEf"}],
            "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:eu-west-1:1:secret:dockerhub-XyZ123"},
            "logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": "abc", "splunk-url": "https://splunk"}},
        }]});
        redactor.value(&mut value);
        let container = &value["containerDefinitions"][0];
        assert_eq!(container["environment"][0]["name"], "DATABASE_URL");
        assert_eq!(container["environment"][0]["value"], REDACTED);
        assert_eq!(container["environment"][1]["value"], REDACTED);
        assert_eq!(
            container["secrets"][0]["valueFrom"],
            "arn:aws:secretsmanager:eu-west-1:1:secret:prod/stripe-AbCdEf"
        );
        assert_eq!(
            container["repositoryCredentials"]["credentialsParameter"],
            "<redacted> (secret dockerhub)"
        );
        assert_eq!(
            container["logConfiguration"]["options"]["splunk-token"],
            REDACTED
        );
        assert_eq!(
            container["logConfiguration"]["options"]["splunk-url"],
            "https://splunk"
        );
        assert_eq!(redactor.counts.get("env-value"), Some(&2));
    }
}
