//! The sync's `ca_file`: the organisation's own CA certificates (PEM), read
//! and checked when the configuration is loaded, before any connection, so
//! that a wrong file is a configuration error at `ca_file`'s line and
//! column (with the PEM file's own line) and not a TLS failure later. Each
//! certificate is checked the way rustls will use it, as a trust anchor.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// Largest CA file read: a bundle of a few hundred certificates.
const MAX_CA_BYTES: u64 = 4 << 20;

/// The DER certificates in a PEM file, or every problem with it (each
/// naming the PEM file's line).
pub fn read(path: &std::path::Path) -> Result<Vec<Vec<u8>>, Vec<String>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CA_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| vec![format!("cannot read it: {e}")])?;
    if bytes.len() as u64 > MAX_CA_BYTES {
        return Err(vec![
            "it is larger than 4 MiB; it should hold the CA certificates only".into(),
        ]);
    }
    parse(&bytes)
}

/// The DER certificates in PEM text (see [`read`]).
pub fn parse(bytes: &[u8]) -> Result<Vec<Vec<u8>>, Vec<String>> {
    if bytes.first() == Some(&0x30) {
        return Err(vec![
            "it is DER, not PEM; convert it with `openssl x509 -inform der -in CA.der -out ca.pem`"
                .into(),
        ]);
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(vec!["it is not PEM text (not UTF-8)".into()]);
    };
    let mut problems = Vec::new();
    let mut certs = Vec::new();
    // (kind, first line number, the section's lines)
    let mut open: Option<(&str, usize, Vec<&str>)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim_end();
        if let Some((kind, start, mut lines)) = open.take() {
            lines.push(line);
            if let Some(end) = line.strip_prefix("-----END ") {
                if end.strip_suffix("-----") != Some(kind) {
                    problems.push(format!(
                        "line {n}: `{line}` does not close the {kind} that line {start} begins"
                    ));
                } else if let Err(why) = section(kind, &lines.join("\n"), &mut certs) {
                    problems.push(format!("line {start}: {why}"));
                }
                continue;
            }
            if !line.starts_with("-----BEGIN ") {
                open = Some((kind, start, lines));
                continue;
            }
            problems.push(format!(
                "line {start}: the {kind} that begins here is not closed before line {n}"
            ));
        }
        // Text outside the blocks (openssl's `subject=` lines) is allowed.
        if let Some(kind) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|k| k.strip_suffix("-----"))
        {
            open = Some((kind, n, vec![line]));
        }
    }
    if let Some((kind, start, _)) = open {
        problems.push(format!(
            "line {start}: the {kind} that begins here is never closed (a truncated file?)"
        ));
    }
    if problems.is_empty() && certs.is_empty() {
        problems.push("it holds no `-----BEGIN CERTIFICATE-----` block".into());
    }
    if problems.is_empty() {
        Ok(certs)
    } else {
        Err(problems)
    }
}

/// One PEM section: a certificate is decoded and checked as a trust anchor;
/// anything else is an error (a key does not belong in a CA file).
fn section(kind: &str, pem: &str, certs: &mut Vec<Vec<u8>>) -> Result<(), String> {
    match kind {
        "CERTIFICATE" => {}
        k if k.ends_with("PRIVATE KEY") => {
            return Err(format!("it holds a {k}; ca_file is for the CA's certificates only (keep the key out of it, and out of reach)"));
        }
        "TRUSTED CERTIFICATE" => {
            return Err("a TRUSTED CERTIFICATE (OpenSSL's own format); convert it with `openssl x509 -in CA -out ca.pem`".into());
        }
        k => return Err(format!("a {k}, not a CERTIFICATE")),
    }
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| format!("the CERTIFICATE is not valid PEM ({e})"))?;
    let mut store = rustls::RootCertStore::empty();
    store
        .add(der.clone())
        .map_err(|e| format!("the CERTIFICATE cannot be a trust anchor: {e}"))?;
    certs.push(der.as_ref().to_vec());
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A self-signed P-256 CA made with `openssl req -x509` (CA:TRUE).
    pub(crate) const CA: &str = "-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUH0ID0K/f8zLZ661SYG3alfLslyYwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRVHJhaWxnYXRlIFRlc3QgQ0EwHhcNMjYxMjAyMTQwMDAwWhcN
MzYxMTI5MTQwMDAwWjAcMRowGAYDVQQDDBFUcmFpbGdhdGUgVGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABMWt2zG9ItuSY52O8qVOvwXOXigHcQg2M1+s
hJaqmecI/ninWt7G5tobAaOXBdTYdckljBDOQzjgiiE7h9mJRwqjUzBRMB0GA1Ud
DgQWBBRiQ5ubQqLNDzGVxON10tUIGqs/CTAfBgNVHSMEGDAWgBRiQ5ubQqLNDzGV
xON10tUIGqs/CTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCW
rA38c97OEK8U4IiY2TPURc2OKAh47OGLQQUiRrRo6gIgCrmePPzDIBP/q6cCXyQf
eCNcjlv7QJkZBJy2eqP/wX0=
-----END CERTIFICATE-----
";

    #[test]
    fn problems_name_the_pem_line() {
        let err = |t: &str| parse(t.as_bytes()).unwrap_err().join("\n");
        assert!(err("").contains("holds no `-----BEGIN CERTIFICATE-----`"));
        assert!(err("subject=x\n-----BEGIN CERTIFICATE-----\nMIIB\n")
            .contains("line 2: the CERTIFICATE that begins here is never closed"));
        assert!(
            err("-----BEGIN PRIVATE KEY-----\nMC4=\n-----END PRIVATE KEY-----\n")
                .contains("line 1: it holds a PRIVATE KEY")
        );
        assert!(
            err("-----BEGIN CERTIFICATE-----\nMC4=\n-----END X509 CRL-----\n")
                .contains("line 3: `-----END X509 CRL-----` does not close the CERTIFICATE")
        );
        assert!(
            err("\n\n-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
                .contains("line 3: the CERTIFICATE is not valid PEM")
        );
        // Valid base64 of something that is not a certificate.
        assert!(
            err("-----BEGIN CERTIFICATE-----\nMC4CAQA=\n-----END CERTIFICATE-----\n")
                .contains("line 1: the CERTIFICATE cannot be a trust anchor")
        );
        // Truncated DER inside well-formed PEM.
        let cut = CA.replace(
            "rA38c97OEK8U4IiY2TPURc2OKAh47OGLQQUiRrRo6gIgCrmePPzDIBP/q6cCXyQf\n",
            "",
        );
        assert!(
            err(&cut).contains("line 1: the CERTIFICATE cannot be a trust anchor"),
            "{}",
            err(&cut)
        );
        assert!(parse(&[0x30, 0x82, 0x01]).unwrap_err()[0].contains("it is DER, not PEM"));
        assert!(err(&format!("{CA}{CA}-----BEGIN CERTIFICATE-----\n"))
            .contains("line 23: the CERTIFICATE"));
        assert!(parse(b"\xff\xfe").unwrap_err()[0].contains("not UTF-8"));
    }

    #[test]
    fn a_bundle_gives_every_certificate() {
        let two = parse(format!("subject=CN = Trailgate Test CA\n{CA}\n{CA}").as_bytes()).unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[0].first(), Some(&0x30));
    }
}
