//! Text messages: the provider interface and its two implementations. `log` (the
//! embedded default) writes one line per text with the phone masked and sends
//! nothing; `tencent` calls Tencent Cloud SMS (`SendSms`, API version 2021-01-11),
//! each request signed with TC3-HMAC-SHA256 as the published API describes
//! (hand-written: the signature is four HMAC-SHA256 steps over the request, and
//! Tencent publishes no Rust SDK; `tests/api/sms.rs` checks it against Tencent's own
//! Python SDK).
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{read_capped, SendError};
use crate::config::{Sms, SmsProvider, TencentSms};
use crate::domain::sms::{Template, Text};

/// One text to one phone.
#[derive(Clone, Debug)]
pub struct Message {
    /// 11 digits (mainland China).
    pub phone: String,
    pub text: Text,
    /// Echoed back by the provider: the delivery row's id.
    pub context: String,
}

/// Sends a text.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), SendError>;
}

/// The provider `settings` name, or `None` when SMS is off.
pub fn provider(settings: &Sms) -> Result<Option<Box<dyn Provider>>, String> {
    Ok(match &settings.provider {
        SmsProvider::Off => None,
        SmsProvider::Log => Some(Box::new(LogProvider {
            sign_name: settings.sign_name.clone(),
        })),
        SmsProvider::Tencent(tencent) => Some(Box::new(Tencent::new(
            tencent.clone(),
            settings.sign_name.clone(),
        )?)),
    })
}

/// Logs the text, its phone masked.
pub struct LogProvider {
    sign_name: String,
}

#[async_trait::async_trait]
impl Provider for LogProvider {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        // The text itself carries the item's tracking code, which opens its page:
        // never in a log (SECURITY.md). The template and the masked phone say enough.
        tracing::info!(
            phone = %crate::domain::mask::phone(&message.phone),
            template = message.text.template.name(),
            "SMS (log provider) 【{}】 not sent: logged without its text",
            self.sign_name,
        );
        Ok(())
    }
}

/// Tencent Cloud SMS.
pub struct Tencent {
    http: reqwest::Client,
    settings: TencentSms,
    sign_name: String,
    /// `host[:port]` of `SMS_API_BASE`, as sent and signed.
    host: String,
}

const SERVICE: &str = "sms";
const ACTION: &str = "SendSms";
const VERSION: &str = "2021-01-11";
const CONTENT_TYPE: &str = "application/json";
/// The largest answer read from the provider (a `SendSms` answer is a few hundred bytes).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

impl Tencent {
    pub fn new(settings: TencentSms, sign_name: String) -> Result<Self, String> {
        let url = url::Url::parse(&settings.api_base).map_err(|e| format!("SMS_API_BASE: {e}"))?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err("SMS_API_BASE has no host".into()),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the SMS HTTP client: {e}"))?;
        Ok(Tencent {
            http,
            settings,
            sign_name,
            host,
        })
    }

    /// The `SendSms` request body.
    fn body(&self, message: &Message) -> String {
        let template_id = match message.text.template {
            Template::Progress => &self.settings.template_progress,
            Template::Alert => &self.settings.template_alert,
        };
        json!({
            "PhoneNumberSet": [format!("+86{}", message.phone)],
            "SmsSdkAppId": self.settings.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": template_id,
            "TemplateParamSet": message.text.params,
            "SessionContext": message.context,
        })
        .to_string()
    }
}

#[async_trait::async_trait]
impl Provider for Tencent {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let body = self.body(message);
        // The provider's clock, not the app's: a signature more than five minutes off
        // the real time is refused.
        let now = Utc::now();
        let authorization = tc3_authorization(
            &self.settings.secret_id,
            &self.settings.secret_key,
            &self.host,
            &body,
            now,
        );
        let response = self
            .http
            .post(format!("{}/", self.settings.api_base))
            .header(reqwest::header::HOST, &self.host)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header("X-TC-Action", ACTION)
            .header("X-TC-Version", VERSION)
            .header("X-TC-Region", &self.settings.region)
            .header("X-TC-Timestamp", now.timestamp().to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| {
                SendError::Transient(format!(
                    "cannot reach the SMS provider: {}",
                    e.without_url()
                ))
            })?;
        let status = response.status();
        let bytes = read_capped(response, MAX_RESPONSE_BYTES, "the SMS provider").await?;
        if !status.is_success() {
            return Err(SendError::Transient(format!(
                "the SMS provider answered HTTP {status}"
            )));
        }
        let answer: Value = serde_json::from_slice(&bytes)
            .map_err(|_| SendError::Transient("the SMS provider answered no JSON".into()))?;
        outcome(&answer)
    }
}

/// What a `SendSms` answer says about the one phone it was sent to.
fn outcome(answer: &Value) -> Result<(), SendError> {
    let response = &answer["Response"];
    if let Some(code) = response["Error"]["Code"].as_str() {
        let message = response["Error"]["Message"].as_str().unwrap_or("");
        return Err(refusal(code, message));
    }
    let status = &response["SendStatusSet"][0];
    match status["Code"].as_str() {
        Some("Ok") => Ok(()),
        Some(code) => Err(refusal(code, status["Message"].as_str().unwrap_or(""))),
        None => Err(SendError::Transient(
            "the SMS provider answered without a send status".into(),
        )),
    }
}

/// Codes no retry changes: a wrong or blacklisted number, a parameter the template
/// refuses, the phone's daily limit at the provider.
fn refusal(code: &str, message: &str) -> SendError {
    let reason = format!("{code}: {}", message.chars().take(200).collect::<String>());
    let permanent = code.starts_with("InvalidParameterValue.")
        || code.starts_with("UnsupportedOperation.")
        || code.starts_with("FailedOperation.PhoneNumber")
        || code == "LimitExceeded.PhoneNumberDailyLimit";
    if permanent {
        SendError::Permanent(reason)
    } else {
        SendError::Transient(reason)
    }
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The `Authorization` header of a `POST /` with JSON `body` to `host` at `now`
/// (TC3-HMAC-SHA256, signed headers `content-type;host`).
pub fn tc3_authorization(
    secret_id: &str,
    secret_key: &str,
    host: &str,
    body: &str,
    now: DateTime<Utc>,
) -> String {
    let date = now.format("%Y-%m-%d").to_string();
    let canonical_request = format!(
        "POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{host}\n\ncontent-type;host\n{}",
        hex::encode(Sha256::digest(body.as_bytes()))
    );
    let scope = format!("{date}/{SERVICE}/tc3_request");
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{}\n{scope}\n{}",
        now.timestamp(),
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let secret_date = hmac(format!("TC3{secret_key}").as_bytes(), &date);
    let secret_service = hmac(&secret_date, SERVICE);
    let secret_signing = hmac(&secret_service, "tc3_request");
    let signature = hex::encode(hmac(&secret_signing, &string_to_sign));
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_per_phone() {
        let ok = json!({"Response": {"SendStatusSet": [{"Code": "Ok", "Message": "send success"}], "RequestId": "r"}});
        assert_eq!(outcome(&ok), Ok(()));
        let wrong = json!({"Response": {"SendStatusSet": [{"Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "bad"}]}});
        assert!(matches!(outcome(&wrong), Err(SendError::Permanent(_))));
        let busy =
            json!({"Response": {"Error": {"Code": "InternalError.Timeout", "Message": "t"}}});
        assert!(matches!(outcome(&busy), Err(SendError::Transient(_))));
        let auth = json!({"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "t"}}});
        assert!(matches!(outcome(&auth), Err(SendError::Transient(_))));
        assert!(matches!(outcome(&json!({})), Err(SendError::Transient(_))));
    }

    #[test]
    fn the_authorization_names_the_key_the_day_and_the_signed_headers() {
        let at = DateTime::from_timestamp(1_551_113_065, 0).unwrap();
        let header =
            tc3_authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "k", "h:1", "{}", at);
        assert!(header.starts_with(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/sms/tc3_request, SignedHeaders=content-type;host, Signature="
        ), "{header}");
        let signature = header.rsplit('=').next().unwrap();
        assert_eq!(signature.len(), 64);
        assert_ne!(
            header,
            tc3_authorization(
                "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
                "k",
                "h:1",
                "{ }",
                at
            )
        );
    }
}
