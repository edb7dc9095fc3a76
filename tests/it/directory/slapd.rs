//! A real OpenLDAP server for the `directory sync` tests: `slapd` as the
//! current user on a free loopback port, with a generated `slapd.conf`
//! (mdb backend) and a generated tree of people and groups loaded with
//! `slapadd`; gated like the host tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::hosts::{find_tool, free_port, wait_for_port, HostTestMode};

pub const SUFFIX: &str = "dc=example,dc=com";
pub const ROOT_DN: &str = "cn=admin,dc=example,dc=com";
pub const ROOT_PW: &str = "secret";
/// The account the sync binds as: an ordinary entry, subject to the
/// server's limits (the root DN is not).
pub const SYNC_DN: &str = "cn=trailgate,dc=example,dc=com";
pub const SYNC_PW: &str = "sync-secret";
pub const TOOLS: &[&str] = &["slapd", "slapadd", "ldapmodify"];

/// The OpenSSH-LPK schema's `sshPublicKey` (Debian's slapd does not ship it).
pub const LPK_SCHEMA: &str = r#"
attributetype ( 1.3.6.1.4.1.24552.500.1.1.1.13 NAME 'sshPublicKey'
  DESC 'OpenSSH Public key' EQUALITY octetStringMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )
objectclass ( 1.3.6.1.4.1.24552.500.1.1.2.0 NAME 'ldapPublicKey' SUP top AUXILIARY
  MAY ( sshPublicKey $ uid ) )
"#;

/// The LDAP tools, or `None` when the host tests are skipped.
pub fn ldap_tools(test: &str) -> Option<Vec<PathBuf>> {
    let mode = HostTestMode::from_env();
    if mode.skip {
        eprintln!("{test}: SKIPPED because TRAILGATE_SKIP_HOST_TESTS=1");
        mode.record("skipped", test, TOOLS);
        return None;
    }
    let found: Vec<_> = TOOLS.iter().map(|t| (t, find_tool(t))).collect();
    let missing: Vec<_> = found
        .iter()
        .filter(|(_, p)| p.is_none())
        .map(|(t, _)| **t)
        .collect();
    assert!(
        missing.is_empty(),
        "{test} needs {missing:?}, which are not installed. Run `sudo scripts/test --install` (it installs the Debian packages slapd ldap-utils), or set TRAILGATE_SKIP_HOST_TESTS=1 to skip the host tests"
    );
    mode.record("run", test, TOOLS);
    Some(found.into_iter().map(|(_, p)| p.unwrap()).collect())
}

/// A person in the generated tree.
pub struct Entry {
    pub uid: &'static str,
    pub name: &'static str,
    pub mail: &'static str,
    pub level: &'static str,
}

pub const ALICE_E: Entry = Entry {
    uid: "alice",
    name: "Alice Senior",
    mail: "alice@example.com",
    level: "senior",
};
pub const CAROL_E: Entry = Entry {
    uid: "carol",
    name: "Carol",
    mail: "carol@example.com",
    level: "junior",
};
pub const DAVE_E: Entry = Entry {
    uid: "dave",
    name: "Dave",
    mail: "dave@example.com",
    level: "mid",
};

pub fn person_ldif(e: &Entry) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nobjectClass: ldapPublicKey\nuid: {uid}\ncn: {name}\nsn: {name}\nmail: {mail}\nemployeeType: {level}\nsshPublicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl {uid}\n\n",
        uid = e.uid,
        name = e.name,
        mail = e.mail,
        level = e.level
    )
}

/// The tree: the suffix, `ou=people`, `ou=groups`, these people, and the
/// group `cn=senior` (groupOfNames) holding `seniors`.
pub fn tree(people: &[&Entry], seniors: &[&str]) -> String {
    let mut out = format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
         dn: {SYNC_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: trailgate\nuserPassword: {SYNC_PW}\n\n\
         dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n"
    );
    for p in people {
        out.push_str(&person_ldif(p));
    }
    out.push_str(&format!(
        "dn: cn=senior,ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: senior\n"
    ));
    // groupOfNames needs a member; the suffix stands in for none.
    if seniors.is_empty() {
        out.push_str(&format!("member: {SUFFIX}\n"));
    }
    for s in seniors {
        out.push_str(&format!("member: uid={s},ou=people,{SUFFIX}\n"));
    }
    out.push('\n');
    out
}

/// Certificates made by `openssl` for the TLS tests: the organisation's
/// own CA, and the server's certificate for `localhost` (and no address)
/// signed by it.
pub struct Pki {
    _dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Pki {
    /// Makes them; a missing `openssl` fails the test saying what to install.
    pub fn make(test: &str) -> Pki {
        let Some(openssl) = find_tool("openssl") else {
            panic!("{test} needs openssl to make its certificates; install the Debian package openssl, or set TRAILGATE_SKIP_HOST_TESTS=1 to skip the host tests");
        };
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let run = |args: &[&str]| {
            let out = Command::new(&openssl)
                .args(args)
                .current_dir(d)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        run(&[
            &["req", "-x509"],
            &ec[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/O=Example/CN=Example Internal CA",
            ],
        ]
        .concat());
        run(&[
            &["req"],
            &ec[..],
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat());
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName = DNS:localhost\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ]);
        Pki {
            ca: d.join("ca.pem"),
            cert: d.join("server.pem"),
            key: d.join("server.key"),
            _dir: dir,
        }
    }
}

/// A slapd on loopback, stopped when dropped.
pub struct Slapd {
    dir: tempfile::TempDir,
    pub port: u16,
    /// The ldaps:// port, when started with certificates.
    pub tls_port: Option<u16>,
    tools: Vec<PathBuf>,
    child: Option<Child>,
}

impl Slapd {
    /// Starts a server holding `ldif`; `limits` goes into the database
    /// section (for example `sizelimit 5`).
    pub fn start(tools: Vec<PathBuf>, ldif: &str, limits: &str) -> Slapd {
        Slapd::start_with(tools, ldif, limits, None)
    }

    /// Starts a server that also speaks TLS with `pki`'s certificate:
    /// ldaps:// on [`Slapd::tls_port`], StartTLS on ldap://.
    pub fn start_tls(tools: Vec<PathBuf>, ldif: &str, pki: &Pki) -> Slapd {
        Slapd::start_with(tools, ldif, "", Some(pki))
    }

    fn start_with(tools: Vec<PathBuf>, ldif: &str, limits: &str, pki: Option<&Pki>) -> Slapd {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("db")).unwrap();
        std::fs::write(d.join("lpk.schema"), LPK_SCHEMA).unwrap();
        let tls = pki.map_or_else(String::new, |p| {
            format!(
                "TLSCACertificateFile {}\nTLSCertificateFile {}\nTLSCertificateKeyFile {}\n",
                p.ca.display(),
                p.cert.display(),
                p.key.display()
            )
        });
        std::fs::write(
            d.join("slapd.conf"),
            format!(
                "include /etc/ldap/schema/core.schema\n\
                 include /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\n\
                 include /etc/ldap/schema/nis.schema\n\
                 include {lpk}\n\
                 modulepath /usr/lib/ldap\n\
                 moduleload back_mdb\n\
                 pidfile {pid}\n\
                 {tls}\
                 database mdb\n\
                 maxsize 104857600\n\
                 suffix \"{SUFFIX}\"\n\
                 rootdn \"{ROOT_DN}\"\n\
                 rootpw {ROOT_PW}\n\
                 directory {db}\n\
                 {limits}\n",
                lpk = d.join("lpk.schema").display(),
                pid = d.join("slapd.pid").display(),
                db = d.join("db").display(),
            ),
        )
        .unwrap();
        std::fs::write(d.join("tree.ldif"), ldif).unwrap();
        let out = Command::new(&tools[1])
            .arg("-f")
            .arg(d.join("slapd.conf"))
            .arg("-l")
            .arg(d.join("tree.ldif"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "slapadd failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut s = Slapd {
            dir,
            port: free_port(),
            tls_port: pki.map(|_| free_port()),
            tools,
            child: None,
        };
        s.run();
        s
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// The ldaps:// URL for `host` (the certificate is for `localhost`).
    pub fn ldaps_url(&self, host: &str) -> String {
        format!("ldaps://{host}:{}", self.tls_port.unwrap())
    }

    /// Starts slapd in the foreground (`-d 0`) on the port (and the TLS port).
    pub fn run(&mut self) {
        let d = self.dir.path();
        let log = d.join("slapd.log");
        let mut urls = format!("{}/", self.url());
        if let Some(port) = self.tls_port {
            urls.push_str(&format!(" ldaps://127.0.0.1:{port}/"));
        }
        let child = Command::new(&self.tools[0])
            .arg("-f")
            .arg(d.join("slapd.conf"))
            .args(["-h", &urls, "-d", "0"])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(d.join("slapd.err")).unwrap())
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_for_port(self.port, "slapd", &d.join("slapd.err"));
        if let Some(port) = self.tls_port {
            wait_for_port(port, "slapd (ldaps)", &d.join("slapd.err"));
        }
    }

    /// Replaces the last line of `slapd.conf` (the limits); takes effect
    /// at the next [`Slapd::run`].
    pub fn set_limits(&self, limits: &str) {
        let conf = self.dir.path().join("slapd.conf");
        let text = std::fs::read_to_string(&conf).unwrap();
        let body = text.trim_end().rsplit_once('\n').unwrap().0;
        std::fs::write(&conf, format!("{body}\n{limits}\n")).unwrap();
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Applies an LDIF change as the root DN.
    pub fn modify(&self, ldif: &str) {
        let mut child = Command::new(&self.tools[2])
            .args(["-x", "-H", &self.url(), "-D", ROOT_DN, "-w", ROOT_PW])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), ldif.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ldapmodify failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}
