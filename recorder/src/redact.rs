//! Redaction: removes secrets from a bundle before it is written or diagnosed.
//!
//! - Structural: environment variable values, `repositoryCredentials`, secret-bearing
//!   log-driver options and proxy settings are replaced. Names are kept, and so are secret
//!   ARNs in `secrets[].valueFrom` (they name the secret, not its value).
//! - Free text: every string is scanned for credentials (AWS access keys and secret keys,
//!   bearer tokens, JWTs, passwords in URLs and `password=` pairs, private keys), and only
//!   those spans are replaced.
//! - The AWS account id is pseudonymised consistently across the bundle, and so are the
//!   principals and source addresses in CloudTrail records (`principal-N`, `ip-N`): the report
//!   can still say that one principal stopped three tasks from one address, with which tool,
//!   but not who.
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
            "github-token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b",
            0,
        ),
        pattern("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", 0),
        pattern(
            "api-key",
            r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}|\bAIza[A-Za-z0-9_-]{35}\b|\bglpat-[A-Za-z0-9_-]{20,}",
            0,
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
    if let Some(event) = &mut bundle.manifest.trigger_event {
        redactor.value(event);
    }
    bundle.manifest.redaction.enabled = true;
    // Accounts pseudonymised (how many distinct ids, not how many places).
    let accounts = u64::try_from(redactor.accounts.len()).unwrap_or(u64::MAX);
    if accounts > 0 {
        redactor.counts.insert("account-id", accounts);
    }
    for (kind, found) in [
        ("principal", redactor.principals.len()),
        ("source-ip", redactor.addresses.len()),
    ] {
        if found > 0 {
            redactor
                .counts
                .insert(kind, u64::try_from(found).unwrap_or(u64::MAX));
        }
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
/// In scan mode (`scan`) it replaces nothing and lists what it would have replaced instead.
pub struct Redactor {
    accounts: Vec<(String, String)>,
    /// CloudTrail principals (names, ids, session names) and source IP addresses, with their
    /// pseudonyms, in the order met.
    principals: Vec<(String, String)>,
    addresses: Vec<(String, String)>,
    pub counts: BTreeMap<&'static str, u64>,
    /// `Some` in scan mode: every credential-shaped value found, with where it is.
    exposures: Option<Vec<Exposure>>,
}

/// A credential-shaped value left in a bundle, as `bundle scan` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Exposure {
    /// Where in the bundle: `calls[3].response.tasks[0].overrides…`.
    pub path: String,
    /// The kind of credential, as in `manifest.redaction.counts`.
    pub kind: &'static str,
    /// Enough to recognise it, never the value: the first characters and the length.
    pub preview: String,
}

/// A location in the bundle, rendered only when something is found there.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root(name) => f.write_str(name),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// Lists the credential-shaped values in a bundle: everything redaction would replace, except
/// that account ids are not credentials. A bundle `record` wrote (redaction on) lists none.
pub fn scan(bundle: &Bundle) -> Vec<Exposure> {
    let mut scanner = Redactor {
        accounts: Vec::new(),
        principals: Vec::new(),
        addresses: Vec::new(),
        counts: BTreeMap::new(),
        exposures: Some(Vec::new()),
    };
    let mut manifest = serde_json::to_value(&bundle.manifest).unwrap_or(Value::Null);
    scanner.value_at(&mut manifest, Path::Root("manifest"));
    for (index, call) in bundle.calls.iter().enumerate() {
        let name = format!("calls[{index}]");
        let at = Path::Root(&name);
        scanner.value_at(&mut call.request.clone(), Path::Key(&at, "request"));
        if let Some(error) = &call.error {
            scanner.text_at(
                &error.message,
                Path::Key(&Path::Key(&at, "error"), "message"),
            );
        }
        if let Some(raw) = &call.response {
            match serde_json::from_str::<Value>(raw.get()) {
                Ok(mut value) => scanner.value_at(&mut value, Path::Key(&at, "response")),
                // Cannot fail for a bundle that loaded (responses nest at most 100 deep); should
                // it, the text is still scanned rather than skipped.
                Err(_) => {
                    scanner.text_at(raw.get(), Path::Key(&at, "response"));
                }
            }
        }
    }
    scanner.exposures.unwrap_or_default()
}

/// How a found secret is shown: its length, and for the kinds that start with a fixed marker
/// (`AKIA`, `eyJ`, `ghp_`, `-----BEGIN`) the first four characters, which are that marker and
/// nothing of the secret. The path says where it is.
fn preview(secret: &str, show_prefix: bool) -> String {
    let length = secret.chars().count();
    if show_prefix {
        let shown: String = secret.chars().take(4).collect();
        format!("{shown}… ({length} chars)")
    } else {
        format!("({length} chars)")
    }
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
            principals: Vec::new(),
            addresses: Vec::new(),
            counts: BTreeMap::new(),
            exposures: None,
        }
    }

    /// Redacts credential spans and pseudonymises account ids in free text.
    pub fn text(&mut self, text: &str) -> String {
        self.text_at(text, Path::Root("text"))
            .unwrap_or_else(|| text.to_owned())
    }

    /// The redacted text, or `None` when nothing in it changes (always, in scan mode, which
    /// lists what it finds instead).
    fn text_at(&mut self, text: &str, path: Path<'_>) -> Option<String> {
        if let Some(exposures) = &mut self.exposures {
            for pattern in SPAN_PATTERNS.iter() {
                for captures in pattern.regex.captures_iter(text) {
                    if let Some(span) = captures.get(pattern.group)
                        && span.as_str() != REDACTED
                    {
                        exposures.push(Exposure {
                            path: path.to_string(),
                            kind: pattern.kind,
                            preview: preview(span.as_str(), pattern.group == 0),
                        });
                    }
                }
            }
            return None;
        }
        let mut out: Option<String> = None;
        for pattern in SPAN_PATTERNS.iter() {
            let current = out.as_deref().unwrap_or(text);
            if !pattern.regex.is_match(current) {
                continue;
            }
            let mut replaced = 0;
            let next = pattern
                .regex
                .replace_all(current, |captures: &regex::Captures<'_>| {
                    let whole = captures.get(0).map_or("", |m| m.as_str());
                    // Already redacted (`password=<redacted>`): left as it is, not counted again.
                    if captures
                        .get(pattern.group)
                        .is_some_and(|m| m.as_str() == REDACTED)
                    {
                        return whole.to_owned();
                    }
                    replaced += 1;
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
            out = Some(next);
        }
        for (account, pseudonym) in &self.accounts {
            let current = out.as_deref().unwrap_or(text);
            if current.contains(account.as_str()) {
                out = Some(current.replace(account.as_str(), pseudonym));
            }
        }
        out
    }

    /// Redacts a JSON value: structure first, then every string.
    pub fn value(&mut self, value: &mut Value) {
        self.value_at(value, Path::Root("value"));
    }

    fn value_at(&mut self, value: &mut Value, path: Path<'_>) {
        match value {
            Value::String(text) => {
                if let Some(redacted) = self.text_at(text, path) {
                    *text = redacted;
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    self.value_at(item, Path::Index(&path, index));
                }
            }
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    let at = Path::Key(&path, key);
                    match key.as_str() {
                        // LookupEvents: the whole record, as a JSON string.
                        "CloudTrailEvent" => {
                            if let Some(record) = child.as_str()
                                && let Ok(mut record) = serde_json::from_str::<Value>(record)
                            {
                                if self.exposures.is_none() {
                                    self.trail_record(&mut record);
                                }
                                self.value_at(&mut record, at);
                                if self.exposures.is_none() {
                                    *child = Value::String(record.to_string());
                                }
                                continue;
                            }
                        }
                        "Username" if self.exposures.is_none() => {
                            if let Value::String(name) = child {
                                *name = self.principal(name);
                            }
                        }
                        // ECS's own record of who registered a revision or created a service.
                        "registeredBy" | "createdBy" if self.exposures.is_none() => {
                            if let Value::String(arn) = child
                                && arn.starts_with("arn:")
                            {
                                *arn = self.principal_arn(arn);
                            }
                        }
                        "environment" => self.name_value_list(child, "env-value", at),
                        "proxyConfiguration" => {
                            if let Some(properties) = child.get_mut("properties") {
                                let at = Path::Key(&at, "properties");
                                self.name_value_list(properties, "proxy-setting", at);
                            }
                        }
                        "repositoryCredentials" => {
                            if let Some(parameter) = child.get_mut("credentialsParameter") {
                                let name = secret_name(parameter.as_str().unwrap_or_default());
                                let redacted = format!("{REDACTED} (secret {name})");
                                let at = Path::Key(&at, "credentialsParameter");
                                self.replace(parameter, redacted, "repository-credentials", at);
                            }
                        }
                        "logConfiguration" => {
                            if let Some(Value::Object(options)) = child.get_mut("options") {
                                let at = Path::Key(&at, "options");
                                for (name, option) in options.iter_mut() {
                                    if SECRET_OPTION.is_match(name) && !name.starts_with("awslogs-")
                                    {
                                        let at = Path::Key(&at, name);
                                        self.replace(option, REDACTED.to_owned(), "log-option", at);
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                    self.value_at(child, at);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// A CloudTrail record: the principal's names and ids, and the caller's address when it
    /// is one (`sourceIPAddress` may name a service, `ecs.amazonaws.com`, which stays).
    fn trail_record(&mut self, record: &mut Value) {
        if let Some(identity) = record.get_mut("userIdentity") {
            self.identity(identity);
        }
        if let Some(Value::String(address)) = record.get_mut("sourceIPAddress")
            && address.parse::<std::net::IpAddr>().is_ok()
        {
            *address = pseudonym(&mut self.addresses, address, "ip");
        }
    }

    /// `userIdentity` and what it nests (`sessionContext.sessionIssuer`, `onBehalfOf`).
    fn identity(&mut self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    match (key.as_str(), child) {
                        ("arn", Value::String(arn)) => *arn = self.principal_arn(arn),
                        ("principalId" | "userName" | "userId", Value::String(name)) => {
                            *name = name
                                .split(':')
                                .map(|part| self.principal(part))
                                .collect::<Vec<_>>()
                                .join(":");
                        }
                        (_, child) => self.identity(child),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.identity(item)),
            _ => {}
        }
    }

    /// `arn:aws:sts::123456789012:assumed-role/Deploy/jane` → `…:assumed-role/principal-1/principal-2`
    /// (the account is pseudonymised with every other string); `…:root` stays.
    fn principal_arn(&mut self, arn: &str) -> String {
        let Some((head, resource)) = arn.rsplit_once(':') else {
            return self.principal(arn);
        };
        let mut parts = resource.split('/');
        let kind = parts.next().unwrap_or_default();
        let names: Vec<String> = parts.map(|part| self.principal(part)).collect();
        if names.is_empty() {
            return arn.to_owned();
        }
        format!("{head}:{kind}/{}", names.join("/"))
    }

    /// The pseudonym of a principal's name or id; a pseudonym or an empty string is its own.
    fn principal(&mut self, name: &str) -> String {
        pseudonym(&mut self.principals, name, "principal")
    }

    /// `[{"name": …, "value": …}]`: replaces each value, keeps each name.
    fn name_value_list(&mut self, list: &mut Value, kind: &'static str, path: Path<'_>) {
        let Value::Array(items) = list else { return };
        for (index, item) in items.iter_mut().enumerate() {
            if let Some(value) = item.get_mut("value") {
                let at = Path::Index(&path, index);
                self.replace(value, REDACTED.to_owned(), kind, Path::Key(&at, "value"));
            }
        }
    }

    /// Replaces a string that is a secret by its position (an environment value, a log-driver
    /// token), or in scan mode lists it. Strings already redacted are left alone; in scan mode
    /// so are empty ones, which hold nothing.
    fn replace(&mut self, value: &mut Value, with: String, kind: &'static str, path: Path<'_>) {
        let Some(text) = value.as_str() else { return };
        if text
            .strip_prefix(REDACTED)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        {
            return;
        }
        if let Some(exposures) = &mut self.exposures {
            if !text.is_empty() {
                exposures.push(Exposure {
                    path: path.to_string(),
                    kind,
                    preview: preview(text, false),
                });
            }
            return;
        }
        *value = Value::String(with);
        *self.counts.entry(kind).or_insert(0) += 1;
    }

    fn call(&mut self, mut call: Call) -> Call {
        self.value(&mut call.request);
        if let Some(error) = &mut call.error {
            error.message = self.text(&error.message);
        }
        let Some(raw) = call.response.take() else {
            return call;
        };
        // A loaded bundle's responses are all within serde_json's nesting limit; should one not
        // be, it is kept as it is rather than lost (and `bundle scan` still reads it as text).
        let Ok(mut value) = serde_json::from_str::<Value>(raw.get()) else {
            call.response = Some(raw);
            return call;
        };
        self.value(&mut value);
        let redacted = serde_json::value::to_raw_value(&value).unwrap_or(raw);
        if let Some(operation) = call.known_operation() {
            // The typed view is rebuilt from the redacted text; it has the same shape.
            if let Ok(mut rebuilt) = Call::new(operation, call.request.clone(), redacted.clone()) {
                rebuilt.source_file = call.source_file.take();
                return rebuilt;
            }
        }
        call.response = Some(redacted);
        call
    }
}

/// `PREFIX-N`, the same for the same value; a value that already is a pseudonym (a bundle
/// redacted twice) or is empty stays as it is.
fn pseudonym(known: &mut Vec<(String, String)>, value: &str, prefix: &str) -> String {
    let is_pseudonym = value
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if value.is_empty() || is_pseudonym {
        return value.to_owned();
    }
    if let Some((_, pseudonym)) = known.iter().find(|(original, _)| original == value) {
        return pseudonym.clone();
    }
    let pseudonym = format!("{prefix}-{}", known.len() + 1);
    known.push((value.to_owned(), pseudonym.clone()));
    pseudonym
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
            principals: Vec::new(),
            addresses: Vec::new(),
            accounts: vec![("123456789012".to_owned(), "000000000001".to_owned())],
            counts: BTreeMap::new(),
            exposures: None,
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
            principals: Vec::new(),
            addresses: Vec::new(),
            counts: BTreeMap::new(),
            exposures: None,
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

    /// A bundle with one secret of every kind redaction knows, in every place one can hide.
    fn leaky_bundle() -> Bundle {
        let definition = serde_json::json!({"taskDefinition": {
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:3",
        "containerDefinitions": [{
            "name": "api",
            "environment": [{"name": "DATABASE_URL", "value": "postgres://db"}, {"name": "EMPTY", "value": ""}],
            "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hub-AbCdEf"},
            "logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": "abc123", "splunk-url": "https://splunk"}},
            "proxyConfiguration": {"properties": [{"name": "IgnoredUID", "value": "1337"}]},
        }]}});
        let lines = [
            "key AKIAIOSFODNN7EXAMPLE and aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "Authorization: Bearer 9f8e7d6c5b4a39281706",
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "postgres://billing:S3cr3t!pw@db.internal:5432/billing",
            "login password=hunter22 ok",
            "-----BEGIN RSA PRIVATE KEY-----MIIEow-----END RSA PRIVATE KEY-----",
            "gh token ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
            "slack xoxb-123456789012-abcdefghijkl",
            "stripe sk_live_abcdefghijklmnop1234",
        ];
        let events: Vec<Value> = lines
            .iter()
            .enumerate()
            .map(|(i, line)| serde_json::json!({"timestamp": 1_700_000_000_000_i64 + i64::try_from(i).unwrap_or(0), "message": line}))
            .collect();
        let mut bundle = Bundle::new(crate::Source::Imported, "2026-01-01T00:00:00Z".to_owned());
        let raw = |value: Value| serde_json::value::to_raw_value(&value).expect("JSON");
        bundle.calls.push(
            Call::new(
                crate::Operation::DescribeTaskDefinition,
                serde_json::json!({}),
                raw(definition),
            )
            .expect("fits"),
        );
        bundle.calls.push(
            Call::new(
                crate::Operation::GetLogEvents,
                serde_json::json!({"logStreamName": "ecs/api/1"}),
                raw(serde_json::json!({"events": events})),
            )
            .expect("fits"),
        );
        bundle.calls.push(Call::failed(
            crate::Operation::DescribeTasks,
            serde_json::json!({"note": "password=swordfish1"}),
            crate::CallError {
                code: "X".to_owned(),
                message: "denied for AKIAIOSFODNN7EXAMPLE".to_owned(),
            },
        ));
        bundle
    }

    #[test]
    fn scan_lists_every_secret_and_shows_none() {
        let bundle = leaky_bundle();
        let found = scan(&bundle);
        let kinds: std::collections::BTreeSet<&str> = found.iter().map(|e| e.kind).collect();
        let expected = [
            "api-key",
            "aws-access-key",
            "aws-secret-key",
            "bearer-token",
            "env-value",
            "github-token",
            "jwt",
            "log-option",
            "password",
            "private-key",
            "proxy-setting",
            "repository-credentials",
            "slack-token",
            "url-password",
        ];
        assert_eq!(kinds, expected.into_iter().collect(), "{found:#?}");
        // Where: the exact place, in the bundle's own terms.
        assert!(found.iter().any(|e| e.path
            == "calls[0].response.taskDefinition.containerDefinitions[0].environment[0].value"));
        assert!(
            found
                .iter()
                .any(|e| e.path == "calls[2].error.message" && e.kind == "aws-access-key")
        );
        assert!(
            found
                .iter()
                .any(|e| e.path == "calls[2].request.note" && e.kind == "password")
        );
        // An empty value holds nothing.
        assert!(
            !found
                .iter()
                .any(|e| e.path.ends_with("environment[1].value")),
            "{found:#?}"
        );
        // No secret is shown, only markers and lengths.
        let shown = format!("{found:?}");
        for secret in [
            "postgres://db",
            "abc123",
            "hunter22",
            "S3cr3t!pw",
            "IOSFODNN7",
            "wJalrXUt",
            "9f8e7d",
            "swordfish",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn a_redacted_bundle_scans_clean_and_redaction_is_idempotent() {
        let mut bundle = leaky_bundle();
        redact(&mut bundle);
        assert_eq!(scan(&bundle), Vec::new());
        let calls = |bundle: &Bundle| {
            let value = serde_json::to_value(&bundle.calls).expect("JSON");
            serde_json::to_string_pretty(&value).expect("JSON")
        };
        let once = calls(&bundle);
        let counts = bundle.manifest.redaction.counts.clone();
        redact(&mut bundle);
        assert_eq!(calls(&bundle), once, "redacting twice changes nothing more");
        // Pseudonymised accounts are counted again (they look like accounts); nothing else is.
        let mut again = bundle.manifest.redaction.counts.clone();
        again.remove("account-id");
        let mut first = counts;
        first.remove("account-id");
        assert_eq!(again, first);
    }

    /// The AWS CLI documentation's own `lookup-events` example
    /// (awscli/examples/cloudtrail/lookup-events.rst), with ECS's `registeredBy` from its
    /// `describe-task-definition` example.
    #[test]
    fn cloudtrail_principals_and_addresses_are_pseudonymised_consistently() {
        let record = r#"{"eventVersion":"1.02","userIdentity":{"type":"AssumedRole","principalId":"AROAJIKPFTA72SWU4L7T4:my-session-name","arn":"arn:aws:sts::123456789012:assumed-role/my-role/my-session-name","accountId":"123456789012","sessionContext":{"attributes":{"mfaAuthenticated":"false","creationDate":"2016-01-26T21:42:12Z"},"sessionIssuer":{"type":"Role","principalId":"AROAJIKPFTA72SWU4L7T4","arn":"arn:aws:iam::123456789012:role/my-role","accountId":"123456789012","userName":"my-role"}}},"eventTime":"2016-01-26T21:42:12Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"72.21.198.70","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/47.0.2526.111 Safari/537.36","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MobileVersion":"No","MFAUsed":"No"},"eventID":"654ccbc0-ba0d-486a-9076-dbf7274677a7","eventType":"AwsConsoleSignIn","recipientAccountId":"123456789012"}"#;
        let response = serde_json::json!({"Events": [{
            "EventId": "654ccbc0-ba0d-486a-9076-dbf7274677a7",
            "Username": "my-session-name",
            "EventTime": "2021-11-18T09:41:02-08:00",
            "CloudTrailEvent": record,
            "EventName": "ConsoleLogin",
            "Resources": []
        }]});
        let definition = serde_json::json!({"taskDefinition": {
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:3",
            "registeredBy": "arn:aws:sts::123456789012:assumed-role/my-role/my-session-name"
        }});
        let mut bundle = Bundle::new(crate::Source::Recorded, "2026-01-01T00:00:00Z".to_owned());
        let raw = |value: Value| serde_json::value::to_raw_value(&value).expect("JSON");
        for (operation, response) in [
            (crate::Operation::LookupEvents, response),
            (crate::Operation::DescribeTaskDefinition, definition),
        ] {
            let call = Call::new(operation, serde_json::json!({}), raw(response)).expect("fits");
            bundle.calls.push(call);
        }
        redact(&mut bundle);
        let text = String::from_utf8(bundle.to_canonical_json()).expect("utf-8");
        for gone in [
            "my-session-name",
            "my-role",
            "AROAJIKPFTA72SWU4L7T4",
            "72.21.198.70",
            "123456789012",
        ] {
            assert!(!text.contains(gone), "{gone} left in {text}");
        }
        let Some(crate::bundle::Response::LookupEvents(events)) =
            bundle.calls.first().map(|c| &*c.parsed)
        else {
            panic!("a LookupEvents response");
        };
        let event = &events.events[0];
        let record: Value =
            serde_json::from_str(event.cloud_trail_event.as_deref().unwrap_or_default())
                .expect("still JSON");
        // The session name is one pseudonym wherever it appears; the role another.
        let session = event.username.clone().unwrap_or_default();
        let role = record["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(session.starts_with("principal-") && role.starts_with("principal-"));
        assert_ne!(session, role);
        assert_eq!(
            record["userIdentity"]["arn"],
            format!("arn:aws:sts::000000000001:assumed-role/{role}/{session}")
        );
        assert_eq!(
            record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
            format!("arn:aws:iam::000000000001:role/{role}")
        );
        assert_eq!(record["sourceIPAddress"], "ip-1");
        // What says how, not who, stays.
        assert_eq!(record["userIdentity"]["type"], "AssumedRole");
        assert!(
            record["userAgent"]
                .as_str()
                .is_some_and(|ua| ua.starts_with("Mozilla/5.0"))
        );
        assert!(
            text.contains(&format!("assumed-role/{role}/{session}\"")),
            "registeredBy: {text}"
        );
        assert_eq!(bundle.manifest.redaction.counts.get("principal"), Some(&3));
        assert_eq!(bundle.manifest.redaction.counts.get("source-ip"), Some(&1));
        // Twice is once (for the calls; the manifest counts what each pass met).
        let calls = |text: &str| {
            text.split("\"manifest\"")
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        let once = calls(&text);
        redact(&mut bundle);
        let twice = String::from_utf8(bundle.to_canonical_json()).expect("utf-8");
        assert_eq!(calls(&twice), once);
    }
}
