//! Connecting to PostgreSQL (`aispend pull litellm --database-url postgres://…`).
//!
//! - The URL is `postgres://[user[:password]@]host[:port][/database][?sslmode=…&sslrootcert=…]`, as
//!   libpq reads it. A password is taken from the URL, else `PGPASSWORD`, else the password file
//!   (`PGPASSFILE`, else `~/.pgpass`, lines `host:port:database:user:password` with `*` wildcards; as
//!   libpq, a file others can read is ignored, with a note). The user defaults to `PGUSER`, else the
//!   login name; the database to the user.
//! - The password is never printed: [`PgTarget::display`] is the URL without it.
//! - TLS is rustls with the ring provider (as the HTTPS client). `sslmode`: `disable`; `prefer` (the
//!   default: TLS when the server offers it); `require` (TLS, the certificate not checked, as libpq
//!   without a root certificate); `verify-full` (TLS, the certificate checked against `sslrootcert` when
//!   given, else the system's trust store, and the host name).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::error::{Error, Result};

/// `sslmode` of the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

/// A parsed `postgres://` URL: where to connect and how, and what to show of it.
pub struct PgTarget {
    config: postgres::Config,
    ssl: SslMode,
    root_cert: Option<PathBuf>,
    /// The URL without its password.
    display: String,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

impl PgTarget {
    /// Parses `url` (`flag` names it in errors). Never echoes the URL itself: it may hold a password.
    pub fn parse(url: &str, flag: &str) -> Result<PgTarget> {
        let bad = |why: &str| Error::usage(format!("invalid {flag}: {why}"));
        let parsed = reqwest::Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(bad("expected a postgres:// or postgresql:// URL"));
        }
        let decode = |s: &str| -> Result<String> {
            percent_decode(s)
                .ok_or_else(|| bad("a part of the URL is not valid percent-encoded UTF-8"))
        };
        let mut config = postgres::Config::new();
        let mut host = parsed.host_str().map(&decode).transpose()?;
        let port = parsed.port().unwrap_or(5432);
        let mut user = match parsed.username() {
            "" => None,
            u => Some(decode(u)?),
        };
        let mut password = parsed.password().map(decode).transpose()?;
        let mut dbname = match parsed.path().trim_start_matches('/') {
            "" => None,
            d => Some(decode(d)?),
        };
        let mut ssl = SslMode::Prefer;
        let mut root_cert = None;
        for (key, value) in parsed.query_pairs() {
            match key.as_ref() {
                "sslmode" => {
                    ssl = match value.as_ref() {
                        "disable" => SslMode::Disable,
                        "prefer" | "allow" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-full" => SslMode::VerifyFull,
                        "verify-ca" => {
                            return Err(bad(
                                "sslmode=verify-ca is not supported: use verify-full (the certificate and the host name)",
                            ))
                        }
                        other => return Err(bad(&format!("unknown sslmode '{other}'"))),
                    }
                }
                "sslrootcert" => root_cert = Some(PathBuf::from(value.as_ref())),
                "host" => host = Some(value.into_owned()),
                "user" => user = Some(value.into_owned()),
                "dbname" => dbname = Some(value.into_owned()),
                "password" => password = Some(value.into_owned()),
                "application_name" => {
                    config.application_name(value.as_ref());
                }
                "connect_timeout" => {
                    let secs: u64 = value
                        .parse()
                        .map_err(|_| bad("connect_timeout must be whole seconds"))?;
                    config.connect_timeout(Duration::from_secs(secs));
                }
                other => return Err(bad(&format!("unsupported URL parameter '{other}'"))),
            }
        }
        let host = host
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        let user = user
            .or_else(|| std::env::var("PGUSER").ok().filter(|u| !u.is_empty()))
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .ok_or_else(|| bad("no user: name one in the URL (postgres://USER@host/db)"))?;
        let dbname = dbname.unwrap_or_else(|| user.clone());
        let password = password
            .or_else(|| std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()))
            .or_else(|| pgpass_lookup(&host, port, &dbname, &user));
        let display = format!(
            "postgres://{}@{}:{port}/{}",
            encode(&user),
            if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            },
            encode(&dbname)
        );
        config
            .host(&host)
            .port(port)
            .user(&user)
            .dbname(&dbname)
            .ssl_mode(match ssl {
                SslMode::Disable => postgres::config::SslMode::Disable,
                SslMode::Prefer => postgres::config::SslMode::Prefer,
                SslMode::Require | SslMode::VerifyFull => postgres::config::SslMode::Require,
            });
        if let Some(p) = &password {
            config.password(p);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(30));
        }
        Ok(PgTarget {
            config,
            ssl,
            root_cert,
            display,
        })
    }

    /// `postgres://user@host:port/db`: never the password.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Connects (TLS as `sslmode` says). Errors name the server by [`PgTarget::display`].
    pub fn connect(&self) -> Result<postgres::Client> {
        let tls = tls_config(self.ssl, self.root_cert.as_deref())?;
        let client = match tls {
            None => self.config.connect(postgres::NoTls),
            Some(config) => self
                .config
                .connect(tokio_postgres_rustls::MakeRustlsConnect::new(config)),
        };
        client.map_err(|e| self.error(&e))
    }

    /// An error of this server: `postgres://user@host:port/db: <what the server or driver said>`.
    pub fn error(&self, e: &postgres::Error) -> Error {
        Error::Database(format!("{}: {}", self.display, error_text(e)))
    }
}

/// What went wrong, with the server's own message when it sent one.
pub fn error_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}

fn tls_config(ssl: SslMode, root_cert: Option<&Path>) -> Result<Option<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls_error = |e: rustls::Error| Error::usage(format!("TLS setup: {e}"));
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    let config = match ssl {
        SslMode::Disable => return Ok(None),
        // As libpq: encrypted, but any certificate is accepted (no root certificate to check it with).
        SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
        SslMode::VerifyFull => match root_cert {
            Some(path) => {
                let mut roots = rustls::RootCertStore::empty();
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
                    .map_err(|e| Error::usage(format!("sslrootcert {}: {e}", path.display())))?;
                for cert in certs {
                    roots.add(cert).map_err(|e| {
                        Error::usage(format!("sslrootcert {}: {e}", path.display()))
                    })?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            None => {
                let verifier =
                    rustls_platform_verifier::Verifier::new(provider).map_err(tls_error)?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier))
                    .with_no_client_auth()
            }
        },
    };
    Ok(Some(config))
}

/// `sslmode=require`/`prefer`: the server's certificate is not checked (its signature on the handshake
/// still is), exactly what libpq does in these modes.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The password for (host, port, database, user) in the password file, as libpq finds it.
fn pgpass_lookup(host: &str, port: u16, dbname: &str, user: &str) -> Option<String> {
    let path = match std::env::var_os("PGPASSFILE").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => dirs::home_dir()?.join(".pgpass"),
    };
    let text = std::fs::read_to_string(&path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!(
                "aispend: note: password file {} is ignored: others can read it (chmod 0600 it)",
                path.display()
            );
            return None;
        }
    }
    pgpass_find(&text, host, &port.to_string(), dbname, user)
}

/// The first line of a password file that matches; `*` matches anything, `\:` and `\\` are escapes.
fn pgpass_find(text: &str, host: &str, port: &str, dbname: &str, user: &str) -> Option<String> {
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut fields = Vec::with_capacity(5);
        let mut field = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => field.extend(chars.next()),
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        fields.push(field);
        if fields.len() != 5 {
            continue;
        }
        let matches = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        if matches(&fields[0], host)
            && matches(&fields[1], port)
            && matches(&fields[2], dbname)
            && matches(&fields[3], user)
        {
            return fields.pop();
        }
    }
    None
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A user or database name as it goes in a URL.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        let t = PgTarget::parse(
            "postgres://spend%40ro:s3cr%3At@db.internal:6432/litellm?sslmode=require",
            "--database-url",
        )
        .unwrap();
        assert_eq!(
            t.display(),
            "postgres://spend%40ro@db.internal:6432/litellm"
        );
        assert_eq!(format!("{t:?}"), t.display());
        assert_eq!(t.ssl, SslMode::Require);
        assert_eq!(t.config.get_password(), Some(&b"s3cr:t"[..]));
        assert_eq!(t.config.get_user(), Some("spend@ro"));
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        for url in [
            "mysql://u:hunter2@h/db",
            "postgres://u:hunter2@h/db?sslmode=verify-ca",
            "postgres://u:hunter2@h/db?sslmode=bogus",
            "postgres://u:hunter2@h/db?sslcert=x",
        ] {
            let e = PgTarget::parse(url, "--database-url")
                .unwrap_err()
                .to_string();
            assert!(!e.contains("hunter2"), "{e}");
            assert!(e.starts_with("invalid --database-url"), "{e}");
        }
    }

    #[test]
    fn password_file_lines_match_as_in_libpq() {
        let file = "# comment\n\
                    other:5432:*:u:wrong\n\
                    db.internal:6432:litellm:spend:pa\\:ss\n\
                    *:*:*:spend:fallback\n";
        let find = |host, port, db, user| pgpass_find(file, host, port, db, user);
        assert_eq!(
            find("db.internal", "6432", "litellm", "spend").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            find("db.internal", "5432", "litellm", "spend").as_deref(),
            Some("fallback")
        );
        assert_eq!(find("db.internal", "5432", "litellm", "nobody"), None);
    }
}
