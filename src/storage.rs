//! The object store behind attachments (`object_store`): a local directory by default,
//! any S3-compatible store with `STORAGE_URL=s3://bucket`. Keys are content hashes
//! (`blobs/<sha256>`, `thumbs/<sha256>`), so writing the same file twice stores it once.
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

use crate::config::StorageSettings;
use crate::error::{AppError, AppResult};

/// Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

/// Which of a file's objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

impl Storage {
    /// Opens the configured store. `beside_database`: the SQLite file, whose sibling
    /// folder `<database>.files` is the embedded default.
    pub fn open(
        settings: &StorageSettings,
        beside_database: Option<&std::path::Path>,
    ) -> Result<Self, String> {
        match settings {
            StorageSettings::Local(path) => {
                let path = match (path, beside_database) {
                    (Some(path), _) => path.clone(),
                    (None, Some(db)) => {
                        let mut name = db.as_os_str().to_owned();
                        name.push(".files");
                        name.into()
                    }
                    (None, None) => "smart-npc-files".into(),
                };
                std::fs::create_dir_all(&path)
                    .map_err(|e| format!("cannot create STORAGE_URL {}: {e}", path.display()))?;
                let store = LocalFileSystem::new_with_prefix(&path)
                    .map_err(|e| format!("cannot use STORAGE_URL {}: {e}", path.display()))?;
                Ok(Storage {
                    store: Arc::new(store),
                    prefix: String::new(),
                })
            }
            StorageSettings::S3(s3) => {
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        // Self-hosted stores answer on the path, not a bucket subdomain.
                        .with_virtual_hosted_style_request(false);
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                let store = builder
                    .build()
                    .map_err(|e| format!("cannot use STORAGE_URL s3://{}: {e}", s3.bucket))?;
                Ok(Storage {
                    store: Arc::new(store),
                    prefix: s3.prefix.clone(),
                })
            }
        }
    }

    fn path(&self, sha256: &str, variant: Variant) -> Path {
        let folder = match variant {
            Variant::Original => "blobs",
            Variant::Thumbnail => "thumbs",
        };
        if self.prefix.is_empty() {
            Path::from(format!("{folder}/{sha256}"))
        } else {
            Path::from(format!("{}/{folder}/{sha256}", self.prefix))
        }
    }

    /// Stores the object unless an object of that hash is there already; whether
    /// this call wrote it.
    pub async fn put(&self, sha256: &str, variant: Variant, bytes: Vec<u8>) -> AppResult<bool> {
        let path = self.path(sha256, variant);
        match self.store.head(&path).await {
            Ok(_) => return Ok(false),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(failed("head", e)),
        }
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|e| failed("put", e))?;
        Ok(true)
    }

    /// The object's bytes; `None` when it is not there.
    pub async fn get(&self, sha256: &str, variant: Variant) -> AppResult<Option<Vec<u8>>> {
        match self.store.get(&self.path(sha256, variant)).await {
            Ok(found) => Ok(Some(
                found.bytes().await.map_err(|e| failed("get", e))?.to_vec(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed("get", e)),
        }
    }

    /// Removes both objects of a hash (absent ones are fine).
    pub async fn delete(&self, sha256: &str) -> AppResult<()> {
        for variant in [Variant::Original, Variant::Thumbnail] {
            match self.store.delete(&self.path(sha256, variant)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(failed("delete", e)),
            }
        }
        Ok(())
    }
}

fn failed(operation: &str, error: object_store::Error) -> AppError {
    AppError::internal(format!("object store {operation}: {error}"))
}
