//! `lifeline-hub dev-ca`: a throwaway certificate authority and a server certificate for
//! `127.0.0.1` and `localhost`, so local runs and tests speak TLS like a real deployment.
//! Never for a real hub: a ministry's hub gets its certificate from the ministry's PKI.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

#[derive(Debug, thiserror::Error)]
pub enum DevCaError {
    #[error("cannot make the certificates: {0}")]
    Make(#[from] rcgen::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What was written.
#[derive(Debug, Clone)]
pub struct DevCa {
    /// The CA certificate desks are told to trust.
    pub ca: PathBuf,
    /// The hub's certificate chain and key.
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn write(path: &Path, text: &str, private: bool) -> Result<(), DevCaError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let fail = |e| DevCaError::Write {
        path: path.to_owned(),
        source: e,
    };
    let mut f = options.open(path).map_err(fail)?;
    f.write_all(text.as_bytes()).map_err(fail)
}

/// Writes `ca.pem`, `hub-cert.pem` and `hub-key.pem` (0600) into `dir`.
pub fn make(dir: &Path) -> Result<DevCa, DevCaError> {
    std::fs::create_dir_all(dir).map_err(|e| DevCaError::Write {
        path: dir.to_owned(),
        source: e,
    })?;
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Lifeline local development CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key)?;

    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "Lifeline hub (local)");
    let cert = params.signed_by(&key, &ca_cert, &ca_key)?;

    let out = DevCa {
        ca: dir.join("ca.pem"),
        cert: dir.join("hub-cert.pem"),
        key: dir.join("hub-key.pem"),
    };
    write(&out.ca, &ca_cert.pem(), false)?;
    write(&out.cert, &cert.pem(), false)?;
    write(&out.key, &key.serialize_pem(), true)?;
    Ok(out)
}
