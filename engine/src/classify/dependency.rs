//! Dependency failures in application logs: an app that could not resolve, reach, secure or
//! log in to a database, cache or service it needs.
//!
//! Every runtime and driver words these differently: Go (`dial tcp: lookup db on 10.0.0.2:53:
//! no such host`), Node (`getaddrinfo ENOTFOUND db`, `connect ECONNREFUSED 127.0.0.1:5432`),
//! Java (`java.net.UnknownHostException: db`), libpq (`could not translate host name "db" to
//! address`), glibc (`Name or service not known`, `Temporary failure in name resolution`),
//! .NET (`No such host is known`, `actively refused it`), PHP (`php_network_getaddresses:
//! getaddrinfo failed`), nginx (`host not found in upstream "app:3000"`). The classifier knows
//! the families, the kind of failure each is and where its target is written.

use std::sync::LazyLock;

use regex::Regex;

/// What went wrong between the app and its dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyFailure {
    /// The name did not resolve.
    Dns,
    /// Nothing accepted the connection.
    Refused,
    /// The connection got no answer.
    Timeout,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// The dependency answered and refused the credentials.
    Auth,
    /// A driver's generic "could not connect", with no more detail.
    Unreachable,
}

impl DependencyFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyFailure::Dns => "dns",
            DependencyFailure::Refused => "refused",
            DependencyFailure::Timeout => "timeout",
            DependencyFailure::Tls => "tls",
            DependencyFailure::Auth => "auth",
            DependencyFailure::Unreachable => "unreachable",
        }
    }
}

/// A classified log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub failure: DependencyFailure,
    /// The host (and port) the line names, when it names one.
    pub target: Option<String>,
}

fn pattern(text: &str) -> Regex {
    Regex::new(text).expect("built-in pattern is valid")
}

/// The families, most specific first: a TLS or login failure also says "connection", and a
/// refused connection after a lookup names both.
static FAMILIES: LazyLock<Vec<(DependencyFailure, Regex)>> = LazyLock::new(|| {
    [
        (
            DependencyFailure::Tls,
            r"(?i)x509: certificate|certificate verify failed|self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer certificate|PKIX path building failed|SSLHandshakeException|tls: handshake failure|SSL routines|server does not support SSL|SSL SYSCALL error|SSL connection has been closed unexpectedly|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID|certificate has expired|no pg_hba\.conf entry .*(?:SSL off|no encryption)|SSL_do_handshake\(\) failed|SSL handshak|SSL connection could not be established|remote certificate is invalid|SSL operation failed|certificate verify locations|invalid certificate|BadCertificate|SELF_SIGNED_CERT|CERT_UNTRUSTED|\bssl connect\b",
        ),
        (
            DependencyFailure::Auth,
            r"(?i)password authentication failed for user|Access denied for user \\?'|NOAUTH Authentication required|WRONGPASS|Login failed for user|MongoServerError: Authentication failed|Authentication failed\.|no pg_hba\.conf entry for host|SASL authentication failed|invalid username-password pair|AUTH failed|ERR AUTH|authentication failed for user|Password does not match for user|is not allowed to connect to this MySQL server|\b28P01\b|ER_ACCESS_DENIED_ERROR|AUTH .* called without any password configured",
        ),
        (
            DependencyFailure::Dns,
            r"(?i)ENOTFOUND|EAI_AGAIN|no such host|UnknownHostException|could not translate host name|Name or service not known|Temporary failure in name resolution|Name does not resolve|getaddrinfo failed|nodename nor servname|No address associated with hostname|No such host is known|host not found in upstream|could not be resolved \(\d+: |Unknown MySQL server host|failed to lookup address information|SocketError: getaddrinfo|server misbehaving|Could not resolve host|name or address could not be resolved|HostNotFoundError|/<unresolved>:|php_network_getaddresses|getaddrinfo for \S+ failed|bad address '|lookup \S+ on \S+:53\b",
        ),
        (
            DependencyFailure::Refused,
            r"(?i)ECONNREFUSED|connection refused|Connection to \S+ refused|Error 111 connecting|actively refused|MySQL server on '[^']*' \(111\)|\[2002\] Connection refused|ConnectionRefused|No connection could be made|WinError 10061|Can't connect to local MySQL server through socket",
        ),
        (
            DependencyFailure::Timeout,
            r"(?i)ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|connection timed out|connect timed out|Connection attempt timed out|i/o timeout|timeout expired|no route to host|network is unreachable|SocketTimeoutException|ConnectTimeoutError|Client\.Timeout exceeded|Timed out connecting|MySQL server on '[^']*' \(110\)|Server selection timed out|Operation timed out|(?:connection|connect|operation|request|socket|selection|handshake|buffering)\s+(?:has\s+)?timed out|Handshake inactivity timeout|context deadline exceeded|pool timed out|PoolTimedOut|UND_ERR_CONNECT_TIMEOUT|ERR_SOCKET_CONNECTION_TIMEOUT|Socket connection timeout|No servers found yet|configured HttpClient\.Timeout|TimeoutError: \S+: timed out",
        ),
        (
            DependencyFailure::Unreachable,
            r#"(?i)could not connect to server|connection to server at "|Can't connect to (?:local )?MySQL server|Communications link failure|Can't reach database server|MongoServerSelectionError|MongoNetworkError|SequelizeConnection\w*Error|Unable to connect to the database|Connection is not available|Unable to connect to|Could not connect to address=|network-related or instance-specific error occurred while establishing a connection|Couldn't connect to server|Is the server running on host|The connection attempt failed|Exception during pool initialization|Cannot assign requested address"#,
        ),
    ]
    .into_iter()
    .map(|(failure, text)| (failure, pattern(text)))
    .collect()
});

/// Where a line names its target, in the order tried; the first capture group is the target.
static TARGETS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH) (\[?[A-Za-z0-9_.:-]+\]?:[0-9]+)",
        r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) ([^\s'\x22]+)",
        r"getaddrinfo for (\S+) failed",
        r#"lookup \\?"?([A-Za-z0-9_.-]+)(?: on [0-9.:\[\]]+)?: "#,
        r"dial tcp (?:[0-9.]+:[0-9]+->)?(\[[0-9a-fA-F:]+\]:[0-9]+|[A-Za-z0-9_.-]+:[0-9]+): ",
        r"Could not resolve host: ([A-Za-z0-9_.-]+)",
        r"\(host=([^)]+)\)\(port=([0-9]+)\)",
        r"ConnectionPool\(host='([^']+)', port=([0-9]+)\)",
        r"No such host is known\. \(([^)]+)\)",
        r#"host: Some\(Domain\("([^"]+)"\)\)"#,
        r"Cannot connect to host ([A-Za-z0-9_.-]+:[0-9]+)",
        r"Unable to connect to ([A-Za-z0-9_.\[\]-]+)/<unresolved>:([0-9]+)",
        r"bad address '([^']+)'",
        r"Connection to ([A-Za-z0-9_.-]+(?::[0-9]+)?) refused",
        r"[Cc]onnecting to (?:Redis on )?([A-Za-z0-9_.-]+:[0-9]+)",
        r"connect\(2\) for (?:\x22)?([A-Za-z0-9_.-]+:[0-9]+)",
        r"(?:calling ismaster on|MySQL server (?:on|host)) '([^']+)'",
        r"TimeoutError: ([A-Za-z0-9_.-]+:[0-9]+): ",
        r#"upstream: "(?:[a-z]+://)?([^/"]+)"#,
        r"AnnotatedConnectException: Connection refused: (\S+)",
        r"through socket '([^']+)'",
        r"Could not connect to Redis at ([A-Za-z0-9_.-]+:[0-9]+)",
        r"\[tcp://([A-Za-z0-9_.-]+(?::[0-9]+)?)",
        r#"to connect to database "[^"]*" @ "([^"]+)""#,
        r"failed to connect to server \[([^\]]+)\]",
        r"UnknownHostException: ([^\s:]+)",
        r#"could not translate host name "([^"]+)""#,
        r#"host not found in upstream "([^"]+)""#,
        r#""([^"]+)" could not be resolved"#,
        r#"connection to server at "([^"]+)"(?: \([^)]*\))?, port ([0-9]+)"#,
        r#"connection to server at "([^"]+)""#,
        r#"on host "([^"]+)""#,
        r#"(?:request for|request to|for url \(|url: Some\(|Get) ?"?https?://([^/\s")]+)"#,
        r"\(tcp://([^)\s]+)\)",
        r"from https?://([^/\s]+)",
        r"certificate is valid for .*, not (\S+)",
        r"(?i)(?:connect|connection|connecting) to ([A-Za-z0-9_.-]+:[0-9]+)",
    ]
    .into_iter()
    .map(pattern)
    .collect()
});

/// The dependency failure a log line reports, or `None`.
pub fn classify(line: &str) -> Option<Dependency> {
    // nginx logs a client's failed handshake with it the same way as its own with an upstream;
    // only `… to upstream` is a dependency.
    static INBOUND: LazyLock<Regex> = LazyLock::new(|| pattern(r"while SSL handshaking, client:"));
    if INBOUND.is_match(line) {
        return None;
    }
    let failure = FAMILIES
        .iter()
        .find(|(_, pattern)| pattern.is_match(line))
        .map(|(failure, _)| *failure)?;
    Some(Dependency {
        failure,
        target: target(line),
    })
}

/// The host (and port) a line names.
pub fn target(line: &str) -> Option<String> {
    TARGETS.iter().find_map(|pattern| {
        let captures = pattern.captures(line)?;
        let host = captures.get(1)?.as_str();
        Some(match captures.get(2) {
            Some(port) => format!("{host}:{}", port.as_str()),
            None => host.to_owned(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use DependencyFailure::{Auth, Dns, Refused, Timeout, Tls, Unreachable};

    /// Real log lines, verbatim from their sources: (line, failure, target, source).
    const LINES: &[(&str, DependencyFailure, Option<&str>, &str)] = &[
        (
            r#"nginx: [emerg] host not found in upstream "app:3000" in /etc/nginx/conf.d/default.conf:3"#,
            Dns,
            Some("app:3000"),
            "https://github.com/cfn-modules/docs/issues/35",
        ),
        (
            r#"nginx: [emerg] host not found in upstream "yelb-appserver" in /etc/nginx/conf.d/default.conf:5"#,
            Dns,
            Some("yelb-appserver"),
            "https://github.com/mreferre/yelb/issues/36",
        ),
        (
            "Error: The server does not support SSL connections",
            Tls,
            None,
            "https://github.com/DefangLabs/samples/issues/419",
        ),
    ];

    #[test]
    fn real_dependency_failures_of_every_runtime() {
        for (line, failure, target, source) in LINES {
            let found = classify(line);
            assert_eq!(
                found.as_ref().map(|d| d.failure),
                Some(*failure),
                "{line}\n  ({source})"
            );
            assert_eq!(
                found.and_then(|d| d.target).as_deref(),
                *target,
                "{line}\n  ({source})"
            );
        }
    }

    /// Lines with the same words that are not a failure to reach a dependency.
    const NEAR_MISSES: &[(&str, &str)] = &[];

    #[test]
    fn near_misses_are_not_dependency_failures() {
        for (line, source) in NEAR_MISSES {
            assert_eq!(classify(line), None, "{line}\n  ({source})");
        }
        let _ = (Auth, Refused, Timeout, Unreachable);
    }
}
