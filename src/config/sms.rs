//! Text-message settings (`SMS_*`): which provider sends, under which signature, when
//! not (quiet hours) and how many a phone gets a day.
use std::fmt;

use super::{parse_number, ConfigError};
use crate::domain::sms::{QuietHours, MAX_SIGN_CHARS};

/// Default of `SMS_API_BASE` (Tencent Cloud's SMS endpoint).
pub const DEFAULT_SMS_API_BASE: &str = "https://sms.tencentcloudapi.com";
/// Default of `SMS_QUIET_HOURS` (China time).
pub const DEFAULT_QUIET_HOURS: &str = "21:00-08:00";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sms {
    /// `SMS_PROVIDER`: `log` (the default: each text is one log line, the phone
    /// masked), `tencent`, or `off` (no SMS deliveries are even queued).
    pub provider: SmsProvider,
    /// `SMS_SIGN_NAME`: the approved signature the provider puts before each text.
    pub sign_name: String,
    /// `SMS_QUIET_HOURS`: texts due in this period wait until its end (`off`: none).
    pub quiet_hours: Option<QuietHours>,
    /// `SMS_DAILY_CAP`: texts one phone gets per day (China time); past it, FAILED.
    pub daily_cap: u32,
}

#[derive(Clone, PartialEq, Eq)]
pub enum SmsProvider {
    Off,
    Log,
    Tencent(TencentSms),
}

impl fmt::Debug for SmsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmsProvider::Off => f.write_str("Off"),
            SmsProvider::Log => f.write_str("Log"),
            SmsProvider::Tencent(t) => f
                .debug_struct("Tencent")
                .field("api_base", &t.api_base)
                .field("region", &t.region)
                .field("sdk_app_id", &t.sdk_app_id)
                .finish_non_exhaustive(),
        }
    }
}

/// Tencent Cloud SMS (`SendSms`, API 2021-01-11, TC3-HMAC-SHA256).
#[derive(Clone, PartialEq, Eq)]
pub struct TencentSms {
    /// `SMS_API_BASE`: the endpoint, no trailing slash (tests point it at a local server).
    pub api_base: String,
    /// `SMS_SECRET_ID` / `SMS_SECRET_KEY`: the API key pair (CAM).
    pub secret_id: String,
    pub secret_key: String,
    /// `SMS_SDK_APP_ID`: the SMS application (SdkAppId).
    pub sdk_app_id: String,
    /// `SMS_REGION` (default `ap-guangzhou`).
    pub region: String,
    /// `SMS_TEMPLATE_PROGRESS` / `SMS_TEMPLATE_ALERT`: the approved templates' ids.
    pub template_progress: String,
    pub template_alert: String,
}

/// Reads the `SMS_*` settings.
pub fn parse(get: &impl Fn(&str) -> Option<String>) -> Result<Sms, ConfigError> {
    let sign_name = get("SMS_SIGN_NAME").unwrap_or_else(|| "和顺县人大".into());
    let sign_len = sign_name.trim().chars().count();
    if !(2..=MAX_SIGN_CHARS).contains(&sign_len) {
        return Err(ConfigError {
            variable: "SMS_SIGN_NAME",
            problem: format!("must be 2 to {MAX_SIGN_CHARS} characters"),
        });
    }
    let quiet_raw = get("SMS_QUIET_HOURS").unwrap_or_else(|| DEFAULT_QUIET_HOURS.into());
    let quiet_hours = match quiet_raw.trim() {
        "off" | "none" => None,
        raw => Some(QuietHours::parse(raw).ok_or_else(|| ConfigError {
            variable: "SMS_QUIET_HOURS",
            problem: format!("{raw:?} is not a period like 21:00-08:00 (or off)"),
        })?),
    };
    let daily_cap = parse_number("SMS_DAILY_CAP", get("SMS_DAILY_CAP"), 10, 1, 1000)? as u32;
    let provider = match get("SMS_PROVIDER").as_deref().map(str::trim) {
        None | Some("log") => SmsProvider::Log,
        Some("off") => SmsProvider::Off,
        Some("tencent") => SmsProvider::Tencent(tencent(get)?),
        Some(other) => {
            return Err(ConfigError {
                variable: "SMS_PROVIDER",
                problem: format!("{other:?} is not one of log, tencent, off"),
            })
        }
    };
    Ok(Sms {
        provider,
        sign_name: sign_name.trim().to_owned(),
        quiet_hours,
        daily_cap,
    })
}

fn tencent(get: &impl Fn(&str) -> Option<String>) -> Result<TencentSms, ConfigError> {
    let required = |variable: &'static str| {
        get(variable)
            .map(|v| v.trim().to_owned())
            .ok_or(ConfigError {
                variable,
                problem: "is required with SMS_PROVIDER=tencent".into(),
            })
    };
    let api_base = get("SMS_API_BASE")
        .map_or_else(|| DEFAULT_SMS_API_BASE.to_owned(), |b| b.trim().to_owned());
    let parsed = url::Url::parse(&api_base).ok();
    let valid = parsed
        .as_ref()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        && !api_base.ends_with('/')
        && parsed.as_ref().is_some_and(|u| u.path() == "/");
    if !valid {
        return Err(ConfigError {
            variable: "SMS_API_BASE",
            problem: format!(
                "{api_base:?} is not a base URL like {DEFAULT_SMS_API_BASE} (no path, no trailing slash)"
            ),
        });
    }
    Ok(TencentSms {
        api_base,
        secret_id: required("SMS_SECRET_ID")?,
        secret_key: required("SMS_SECRET_KEY")?,
        sdk_app_id: required("SMS_SDK_APP_ID")?,
        region: get("SMS_REGION").unwrap_or_else(|| "ap-guangzhou".into()),
        template_progress: required("SMS_TEMPLATE_PROGRESS")?,
        template_alert: required("SMS_TEMPLATE_ALERT")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(pairs: &[(&str, &str)]) -> Result<Sms, ConfigError> {
        parse(&|key: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_log_provider_is_the_default_with_quiet_hours_and_a_cap() {
        let s = sms(&[]).unwrap();
        assert_eq!(s.provider, SmsProvider::Log);
        assert_eq!(s.quiet_hours, QuietHours::parse("21:00-08:00"));
        assert_eq!(s.daily_cap, 10);
        assert_eq!(
            sms(&[("SMS_QUIET_HOURS", "off")]).unwrap().quiet_hours,
            None
        );
        assert_eq!(
            sms(&[("SMS_PROVIDER", "off")]).unwrap().provider,
            SmsProvider::Off
        );
    }

    #[test]
    fn tencent_needs_its_keys_and_a_plain_base_url() {
        let err = sms(&[("SMS_PROVIDER", "tencent")]).unwrap_err();
        assert_eq!(err.variable, "SMS_SECRET_ID");
        let full = [
            ("SMS_PROVIDER", "tencent"),
            ("SMS_SECRET_ID", "AKIDexample"),
            ("SMS_SECRET_KEY", "secret"),
            ("SMS_SDK_APP_ID", "1400000000"),
            ("SMS_TEMPLATE_PROGRESS", "100001"),
            ("SMS_TEMPLATE_ALERT", "100002"),
        ];
        let ok = sms(&full).unwrap();
        let SmsProvider::Tencent(t) = &ok.provider else {
            panic!("{ok:?}")
        };
        assert_eq!(t.api_base, DEFAULT_SMS_API_BASE);
        assert!(!format!("{ok:?}").contains("secret"), "{ok:?}");
        for bad in ["ftp://x", "https://sms.example.com/", "https://x/path"] {
            let mut with = full.to_vec();
            with.push(("SMS_API_BASE", bad));
            assert_eq!(sms(&with).unwrap_err().variable, "SMS_API_BASE", "{bad}");
        }
        assert_eq!(
            sms(&[("SMS_SIGN_NAME", "很".repeat(13).as_str())])
                .unwrap_err()
                .variable,
            "SMS_SIGN_NAME"
        );
        assert_eq!(
            sms(&[("SMS_QUIET_HOURS", "21-8")]).unwrap_err().variable,
            "SMS_QUIET_HOURS"
        );
    }
}
