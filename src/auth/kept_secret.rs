//! The embedded default's token secret: without `TOKEN_SECRET` (never in production,
//! where it is required), `serve` on a SQLite file signs access tokens with a secret
//! generated once and kept beside the database, so that a restart does not sign
//! everyone out.
//!
//! Why a file beside the database and not a row in it: the file can be owner-only
//! (0600) while the database is often copied around (backups, a demo database handed
//! to a colleague, a bug report); a secret inside it would travel with every copy and
//! let whoever holds one forge tokens for the original. Deleting the file signs every
//! session's access tokens out (refresh tokens, kept in the database, still work).
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;

/// Random bytes in a generated secret.
const SECRET_BYTES: usize = 32;

/// Where the secret of the database at `database` is kept: `<database>.token-secret`.
pub fn beside(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".token-secret");
    PathBuf::from(name)
}

/// Reads the secret kept at `path`, or creates it (owner-only) when there is none.
/// Two processes starting together agree on one secret: the file appears complete or
/// not at all, and the second finds the first's.
pub fn load_or_create(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => return parse(path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(format!(
                "cannot read the token secret {}: {e}",
                path.display()
            ))
        }
    }
    let mut bytes = [0u8; SECRET_BYTES];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    match publish(path, &secret) {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a token secret for this database");
            Ok(secret)
        }
        // Another process was quicker: use its secret.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the token secret {}: {e}", path.display()))?;
            parse(path, &text)
        }
        Err(e) => Err(format!(
            "cannot write the token secret {}: {e} (or set TOKEN_SECRET)",
            path.display()
        )),
    }
}

fn parse(path: &Path, text: &str) -> Result<String, String> {
    let secret = text.trim();
    if secret.len() != SECRET_BYTES * 2 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "the token secret {} is malformed: remove it (which signs every access token out) or set TOKEN_SECRET",
            path.display()
        ));
    }
    warn_if_readable_by_others(path);
    Ok(secret.to_owned())
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "the token secret is readable by others: chmod 600 it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Writes `secret` to a private temporary file, then links it into place: the link
/// fails if `path` exists, so no process ever reads a half-written secret, and none
/// overwrites another's.
fn publish(path: &Path, secret: &str) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    // Unpredictable, and created exclusively below: a file or link planted under the
    // name beforehand makes this fail instead of receiving the secret.
    temporary.push(format!(
        ".{}.{:016x}.tmp",
        std::process::id(),
        rand::random::<u64>()
    ));
    let temporary = PathBuf::from(temporary);
    let written =
        write_private(&temporary, secret).and_then(|()| std::fs::hard_link(&temporary, path));
    let _ = std::fs::remove_file(&temporary);
    written
}

fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    // `create_new` is O_CREAT|O_EXCL, which also refuses to follow a symbolic link.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = beside(&dir.path().join("x.db"));
        assert!(path.ends_with("x.db.token-secret"));
        let first = load_or_create(&path).expect("created");
        assert_eq!(first.len(), 64);
        assert_eq!(load_or_create(&path).expect("read"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn a_malformed_secret_is_an_error_not_a_new_secret() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("x.db.token-secret");
        std::fs::write(&path, "short").expect("write");
        let error = load_or_create(&path).expect_err("malformed");
        assert!(error.contains("malformed"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "short");
    }
}
