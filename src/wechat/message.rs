//! Parsing and rendering of WeChat official account server messages (消息推送), see
//! `docs/protocols.md`, "WeChat official account server messages".
//!
//! WeChat posts a flat `<xml>` document whose children carry one value each, as CDATA
//! or plain text. [`parse`] reads the plain-mode (or decrypted safe-mode) message,
//! [`parse_encrypted_envelope`] the safe-mode body; [`text_reply`] and
//! [`encrypted_reply`] render passive replies. Everything is pure.
//!
//! The parser is deliberately small: a DOCTYPE is rejected outright (so no entity can be
//! declared: no XXE, no entity expansion bombs), only the five predefined entities and
//! character references are resolved, and bodies over [`MAX_BODY_BYTES`] are refused
//! before parsing.
use std::borrow::Cow;

use quick_xml::escape::{escape, resolve_xml_entity};
use quick_xml::events::Event;
use quick_xml::Reader;

/// Largest body accepted by [`parse`] and [`parse_encrypted_envelope`] (64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why a body could not be read as a WeChat message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("message body exceeds {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("DOCTYPE declarations are not allowed")]
    DtdNotAllowed,
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("missing element <{0}>")]
    MissingField(&'static str),
    #[error("invalid value in <{0}>")]
    InvalidField(&'static str),
}

/// An inbound message or event, as far as this service cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// `MsgType=text`.
    Text {
        /// The official account's original id (`gh_...`).
        to_user: String,
        /// The sender's OpenID.
        from_user: String,
        create_time: i64,
        content: String,
        msg_id: String,
    },
    /// `MsgType=location`: a place the user picked on WeChat's map, in GCJ-02.
    /// `latitude` (`Location_X`) and `longitude` (`Location_Y`) are kept as sent, checked
    /// to be finite decimal numbers (ranges and the datum are the domain's to check).
    Location {
        to_user: String,
        from_user: String,
        create_time: i64,
        latitude: String,
        longitude: String,
        /// The map's zoom (`Scale`), as sent; absent when not a whole number.
        scale: Option<u32>,
        /// WeChat's name for the place (`Label`), control characters removed.
        label: String,
        msg_id: String,
    },
    /// `MsgType=image`: a photo the user sent. `media_id` (`MediaId`) fetches it from
    /// the official account's media API; `PicUrl` is not kept (the gateway fetches
    /// nothing from an address a message names).
    Image {
        to_user: String,
        from_user: String,
        create_time: i64,
        media_id: String,
        msg_id: String,
    },
    /// `Event=subscribe`; `scene` is `<x>` from `EventKey=qrscene_<x>` when the user
    /// followed through a parametric QR code.
    Subscribe {
        to_user: String,
        from_user: String,
        create_time: i64,
        scene: Option<String>,
    },
    /// `Event=SCAN`: an already-following user scanned a parametric QR code; `scene`
    /// is the `EventKey`.
    Scan {
        to_user: String,
        from_user: String,
        create_time: i64,
        scene: String,
    },
    /// `Event=unsubscribe`.
    Unsubscribe {
        to_user: String,
        from_user: String,
        create_time: i64,
    },
    /// Any other message (`voice`, `video`, ...) or event (`CLICK`, `LOCATION`, ...);
    /// `msg_type` is the `MsgType` as sent (`event` for all events).
    Other {
        to_user: String,
        from_user: String,
        create_time: i64,
        msg_type: String,
    },
}

impl Inbound {
    /// Key for de-duplicating WeChat's retries: `msg:<FromUserName>:<MsgId>` for text
    /// messages, `evt:<FromUserName>:<CreateTime>` for events and for other messages
    /// (whose `MsgId` is not kept). Never the `MsgId` alone: it is unique per follower
    /// at best, and a body carrying another follower's `MsgId` must not be answered
    /// with that follower's reply (and tracking code).
    pub fn dedupe_key(&self) -> String {
        match self {
            Inbound::Text {
                from_user, msg_id, ..
            }
            | Inbound::Location {
                from_user, msg_id, ..
            }
            | Inbound::Image {
                from_user, msg_id, ..
            } => format!("msg:{from_user}:{msg_id}"),
            _ => format!("evt:{}:{}", self.from_user(), self.create_time()),
        }
    }

    /// Every value this service reads from the message, in an unambiguous encoding
    /// (each value length-prefixed): two deliveries with the same canonical form are
    /// the same message to us, whatever their XML looked like.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        let mut put = |value: &str| {
            out.push_str(&value.len().to_string());
            out.push(':');
            out.push_str(value);
            out.push(';');
        };
        let create_time = self.create_time().to_string();
        match self {
            Inbound::Text {
                content, msg_id, ..
            } => {
                put("text");
                put(content);
                put(msg_id);
            }
            Inbound::Location {
                latitude,
                longitude,
                scale,
                label,
                msg_id,
                ..
            } => {
                put("location");
                put(latitude);
                put(longitude);
                put(&scale.map(|s| s.to_string()).unwrap_or_default());
                put(label);
                put(msg_id);
            }
            Inbound::Image {
                media_id, msg_id, ..
            } => {
                put("image");
                put(media_id);
                put(msg_id);
            }
            Inbound::Subscribe { scene, .. } => {
                put("subscribe");
                put(if scene.is_some() { "1" } else { "0" });
                put(scene.as_deref().unwrap_or(""));
            }
            Inbound::Scan { scene, .. } => {
                put("scan");
                put(scene);
            }
            Inbound::Unsubscribe { .. } => put("unsubscribe"),
            Inbound::Other { msg_type, .. } => {
                put("other");
                put(msg_type);
            }
        }
        put(self.to_user());
        put(self.from_user());
        put(&create_time);
        out
    }

    /// The official account (`ToUserName`).
    pub fn to_user(&self) -> &str {
        match self {
            Inbound::Text { to_user, .. }
            | Inbound::Location { to_user, .. }
            | Inbound::Image { to_user, .. }
            | Inbound::Subscribe { to_user, .. }
            | Inbound::Scan { to_user, .. }
            | Inbound::Unsubscribe { to_user, .. }
            | Inbound::Other { to_user, .. } => to_user,
        }
    }

    /// The user's OpenID (`FromUserName`).
    pub fn from_user(&self) -> &str {
        match self {
            Inbound::Text { from_user, .. }
            | Inbound::Location { from_user, .. }
            | Inbound::Image { from_user, .. }
            | Inbound::Subscribe { from_user, .. }
            | Inbound::Scan { from_user, .. }
            | Inbound::Unsubscribe { from_user, .. }
            | Inbound::Other { from_user, .. } => from_user,
        }
    }

    /// `CreateTime`, seconds since the epoch.
    pub fn create_time(&self) -> i64 {
        match self {
            Inbound::Text { create_time, .. }
            | Inbound::Location { create_time, .. }
            | Inbound::Image { create_time, .. }
            | Inbound::Subscribe { create_time, .. }
            | Inbound::Scan { create_time, .. }
            | Inbound::Unsubscribe { create_time, .. }
            | Inbound::Other { create_time, .. } => *create_time,
        }
    }
}

/// The direct children of the `<xml>` root, in document order.
#[derive(Debug, Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value with surrounding whitespace removed; absent or blank is missing.
    fn required(&self, name: &'static str) -> Result<&str, MessageError> {
        match self.get(name).map(str::trim) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(MessageError::MissingField(name)),
        }
    }

    /// The trimmed value, `None` when absent or blank.
    fn optional(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

fn malformed(e: impl std::fmt::Display) -> MessageError {
    MessageError::Malformed(e.to_string())
}

/// Reads a flat `<xml>` document into its children's text values. Elements nested
/// deeper than the root's children are checked for well-formedness but their text is
/// ignored; attributes are ignored.
fn parse_fields(xml: &str) -> Result<Fields, MessageError> {
    if xml.len() > MAX_BODY_BYTES {
        return Err(MessageError::TooLarge);
    }
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let mut reader = Reader::from_str(xml);
    {
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.allow_unmatched_ends = false;
        config.allow_dangling_amp = false;
        config.trim_text(false);
    }

    let mut fields = Fields::default();
    let mut depth = 0usize;
    let mut seen_root = false;
    // The child of the root being read: its name and the text collected so far.
    let mut current: Option<(String, String)> = None;

    loop {
        let event = reader.read_event().map_err(malformed)?;
        match event {
            Event::DocType(_) => return Err(MessageError::DtdNotAllowed),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Start(start) => {
                depth += 1;
                let name = std::str::from_utf8(start.name().as_ref())
                    .map_err(malformed)?
                    .to_owned();
                match depth {
                    1 => {
                        if seen_root {
                            return Err(malformed("more than one root element"));
                        }
                        if name != "xml" {
                            return Err(malformed(format!("root element is <{name}>, not <xml>")));
                        }
                        seen_root = true;
                    }
                    2 => {
                        if fields.get(&name).is_some() {
                            return Err(malformed(format!("duplicate element <{name}>")));
                        }
                        current = Some((name, String::new()));
                    }
                    _ => {}
                }
            }
            // `expand_empty_elements` reports `<a/>` as `Start` + `End` instead.
            Event::Empty(_) => return Err(malformed("unexpected empty element event")),
            Event::End(_) => {
                if depth == 2 {
                    if let Some(field) = current.take() {
                        fields.0.push(field);
                    }
                }
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| malformed("unmatched end tag"))?;
            }
            Event::Text(text) => {
                let text = text.xml10_content().map_err(malformed)?;
                push_text(depth, &mut current, &text)?;
            }
            Event::CData(cdata) => {
                let text = cdata.xml10_content().map_err(malformed)?;
                if depth < 2 {
                    return Err(malformed("CDATA outside an element value"));
                }
                push_text(depth, &mut current, &text)?;
            }
            Event::GeneralRef(reference) => {
                let resolved: Cow<'_, str> = if reference.is_char_ref() {
                    match reference.resolve_char_ref().map_err(malformed)? {
                        Some(c) => Cow::Owned(c.to_string()),
                        None => return Err(malformed("invalid character reference")),
                    }
                } else {
                    let name = reference.decode().map_err(malformed)?;
                    match resolve_xml_entity(&name) {
                        Some(s) => Cow::Borrowed(s),
                        None => return Err(malformed(format!("unknown entity &{name};"))),
                    }
                };
                push_text(depth, &mut current, &resolved)?;
            }
            Event::Eof => break,
        }
    }

    if !seen_root {
        return Err(malformed("no <xml> root element"));
    }
    if depth != 0 {
        return Err(malformed("unexpected end of document"));
    }
    Ok(fields)
}

/// Adds character data at `depth`: kept for the root's children, ignored deeper, and
/// only whitespace is allowed around and between the root's children.
fn push_text(
    depth: usize,
    current: &mut Option<(String, String)>,
    text: &str,
) -> Result<(), MessageError> {
    match depth {
        0 | 1 => {
            if text.chars().all(char::is_whitespace) {
                Ok(())
            } else {
                Err(malformed("text outside an element value"))
            }
        }
        2 => {
            if let Some((_, value)) = current {
                value.push_str(text);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Longest OpenID (or account id) accepted; OpenIDs are 28 characters, the column 64.
pub const MAX_ID_LEN: usize = 64;
/// Longest `MsgId` accepted (WeChat's are 64-bit numbers, at most 20 digits).
const MAX_MSG_ID_LEN: usize = 32;

/// Whether `id` looks like an OpenID or an account's original id (`gh_...`): 1 to
/// [`MAX_ID_LEN`] ASCII letters, digits, `_` or `-`. These are stored and used in keys,
/// so anything else (control characters, markup, overlong values) is refused.
pub fn is_id_shaped(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `text` without C0 control characters other than tab, line feed and carriage return,
/// and without DEL. PostgreSQL's `text` cannot hold U+0000 at all (the insert fails and
/// the message would be lost), and none of them belongs in an opinion item.
pub fn strip_control_chars(text: &str) -> Cow<'_, str> {
    let unwanted = |c: char| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r');
    if text.chars().any(unwanted) {
        Cow::Owned(text.chars().filter(|&c| !unwanted(c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

fn id_field(fields: &Fields, name: &'static str) -> Result<String, MessageError> {
    let id = fields.required(name)?;
    if is_id_shaped(id) {
        Ok(id.to_owned())
    } else {
        Err(MessageError::InvalidField(name))
    }
}

/// A numeric `MsgId` of at most [`MAX_MSG_ID_LEN`] digits.
fn msg_id(fields: &Fields) -> Result<String, MessageError> {
    let msg_id = fields.required("MsgId")?;
    if msg_id.len() > MAX_MSG_ID_LEN || !msg_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MessageError::InvalidField("MsgId"));
    }
    Ok(msg_id.to_owned())
}

/// The longest `MediaId` accepted (WeChat's are 64 characters).
const MAX_MEDIA_ID_LEN: usize = 128;

/// `MediaId`: letters, digits, `-` and `_`, at most [`MAX_MEDIA_ID_LEN`].
fn media_id(fields: &Fields) -> Result<String, MessageError> {
    let id = fields.required("MediaId")?;
    if id.len() > MAX_MEDIA_ID_LEN
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    {
        return Err(MessageError::InvalidField("MediaId"));
    }
    Ok(id.to_owned())
}

/// A decimal number of at most 32 characters that is finite (`Location_X`/`_Y`).
fn coordinate(fields: &Fields, name: &'static str) -> Result<String, MessageError> {
    let raw = fields.required(name)?;
    let finite = raw.len() <= 32
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+'))
        && raw.parse::<f64>().is_ok_and(f64::is_finite);
    if finite {
        Ok(raw.to_owned())
    } else {
        Err(MessageError::InvalidField(name))
    }
}

/// Parses a plain-mode body (or a decrypted safe-mode message).
///
/// Requires `ToUserName` and `FromUserName` (id-shaped, see [`is_id_shaped`]), a
/// numeric `CreateTime` and `MsgType`; text messages also need `Content` (may be
/// empty; control characters are removed, see [`strip_control_chars`]) and a numeric
/// `MsgId`; `SCAN` needs a non-empty `EventKey`.
pub fn parse(xml: &str) -> Result<Inbound, MessageError> {
    let fields = parse_fields(xml)?;
    let to_user = id_field(&fields, "ToUserName")?;
    let from_user = id_field(&fields, "FromUserName")?;
    let create_time = fields
        .required("CreateTime")?
        .parse::<i64>()
        .map_err(|_| MessageError::InvalidField("CreateTime"))?;
    let msg_type = fields.required("MsgType")?;

    if msg_type.eq_ignore_ascii_case("text") {
        let content = strip_control_chars(
            fields
                .get("Content")
                .ok_or(MessageError::MissingField("Content"))?,
        )
        .into_owned();
        return Ok(Inbound::Text {
            to_user,
            from_user,
            create_time,
            content,
            msg_id: msg_id(&fields)?,
        });
    }

    if msg_type.eq_ignore_ascii_case("location") {
        return Ok(Inbound::Location {
            to_user,
            from_user,
            create_time,
            latitude: coordinate(&fields, "Location_X")?,
            longitude: coordinate(&fields, "Location_Y")?,
            scale: fields.optional("Scale").and_then(|s| s.parse().ok()),
            label: strip_control_chars(fields.get("Label").unwrap_or_default())
                .trim()
                .to_owned(),
            msg_id: msg_id(&fields)?,
        });
    }

    if msg_type.eq_ignore_ascii_case("image") {
        return Ok(Inbound::Image {
            to_user,
            from_user,
            create_time,
            media_id: media_id(&fields)?,
            msg_id: msg_id(&fields)?,
        });
    }

    if msg_type.eq_ignore_ascii_case("event") {
        let event = fields.required("Event")?;
        if event.eq_ignore_ascii_case("subscribe") {
            let scene = fields
                .optional("EventKey")
                .and_then(|key| key.strip_prefix("qrscene_"))
                .filter(|scene| !scene.is_empty())
                .map(str::to_owned);
            return Ok(Inbound::Subscribe {
                to_user,
                from_user,
                create_time,
                scene,
            });
        }
        if event.eq_ignore_ascii_case("SCAN") {
            let scene = fields.required("EventKey")?.to_owned();
            return Ok(Inbound::Scan {
                to_user,
                from_user,
                create_time,
                scene,
            });
        }
        if event.eq_ignore_ascii_case("unsubscribe") {
            return Ok(Inbound::Unsubscribe {
                to_user,
                from_user,
                create_time,
            });
        }
    }

    Ok(Inbound::Other {
        to_user,
        from_user,
        create_time,
        msg_type: msg_type.to_owned(),
    })
}

/// Reads a safe-mode body `<xml><ToUserName/><Encrypt/></xml>` (other elements, as in
/// compatibility mode, are ignored) and returns `(ToUserName, Encrypt)`.
pub fn parse_encrypted_envelope(xml: &str) -> Result<(String, String), MessageError> {
    let fields = parse_fields(xml)?;
    let to_user = fields.required("ToUserName")?.to_owned();
    let encrypt = fields.required("Encrypt")?.to_owned();
    Ok((to_user, encrypt))
}

/// Whether `c` may appear in an XML 1.0 document at all (even in CDATA).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `s` as one or more CDATA sections: `]]>` is split across two sections
/// (`]]]]><![CDATA[>`) and characters XML cannot carry are dropped.
fn cdata(s: &str) -> String {
    let clean: String = s.chars().filter(|&c| is_xml_char(c)).collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

/// `s` as escaped character data, without characters XML cannot carry.
fn plain_text(s: &str) -> String {
    let clean: String = s.chars().filter(|&c| is_xml_char(c)).collect();
    escape(clean.as_str()).into_owned()
}

/// A passive text reply. `to_user` is the user's OpenID (the inbound `FromUserName`),
/// `from_user` the account (the inbound `ToUserName`).
pub fn text_reply(to_user: &str, from_user: &str, create_time: i64, content: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName>\
         <CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content>{}</Content></xml>",
        cdata(to_user),
        cdata(from_user),
        cdata(content),
    )
}

/// A safe-mode reply: `encrypt` is [`super::crypto::Cipher::encrypt`] of the plain
/// reply and `signature` its [`super::crypto::msg_signature`] over the same
/// `timestamp` and `nonce`.
pub fn encrypted_reply(encrypt: &str, signature: &str, timestamp: &str, nonce: &str) -> String {
    format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature>\
         <TimeStamp>{}</TimeStamp><Nonce>{}</Nonce></xml>",
        cdata(encrypt),
        cdata(signature),
        plain_text(timestamp),
        cdata(nonce),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wechat::crypto::{msg_signature, signatures_match, Cipher};

    // Samples in the format of WeChat's documentation (接收普通消息 / 接收事件推送).
    const TEXT: &str = "<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[this is a test]]></Content>
  <MsgId>1234567890123456</MsgId>
  <MsgDataId>xxxx</MsgDataId>
  <Idx>xxxx</Idx>
</xml>";

    const SUBSCRIBE: &str = "<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[subscribe]]></Event>
</xml>";

    const SUBSCRIBE_QR: &str = "<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[subscribe]]></Event>
  <EventKey><![CDATA[qrscene_123123]]></EventKey>
  <Ticket><![CDATA[TICKET]]></Ticket>
</xml>";

    const SCAN: &str = "<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[SCAN]]></Event>
  <EventKey><![CDATA[SCENE_VALUE]]></EventKey>
  <Ticket><![CDATA[TICKET]]></Ticket>
</xml>";

    const UNSUBSCRIBE: &str = "<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[unsubscribe]]></Event>
</xml>";

    const IMAGE: &str = "<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[image]]></MsgType>
  <PicUrl><![CDATA[this is a url]]></PicUrl>
  <MediaId><![CDATA[media_id]]></MediaId>
  <MsgId>1234567890123456</MsgId>
</xml>";

    const CLICK: &str = "<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[CLICK]]></Event>
  <EventKey><![CDATA[EVENTKEY]]></EventKey>
</xml>";

    /// A menu event with nested elements (自定义菜单 scancode_push).
    const SCANCODE_PUSH: &str = "<xml><ToUserName><![CDATA[gh_e136c6e50636]]></ToUserName>
<FromUserName><![CDATA[oMgHVjngRipVsoxg6TuX3vz6glDg]]></FromUserName>
<CreateTime>1408090502</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[scancode_push]]></Event>
<EventKey><![CDATA[6]]></EventKey>
<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType>
<ScanResult><![CDATA[1]]></ScanResult>
</ScanCodeInfo>
</xml>";

    /// Safe-mode body in the format of WeChat's documentation (消息加解密说明), carrying
    /// the wechatpy-made ciphertext of `crypto.rs`'s tests (token "pamtest", timestamp
    /// "1409304348", nonce "xxxxxx", appid "wxb11529c136998cb6").
    const ENVELOPE: &str = "<xml>
    <ToUserName><![CDATA[gh_abc]]></ToUserName>
    <Encrypt><![CDATA[Q3stYC6hdFzMh9T8HCvyDPYd4batj7zR9qX1tTJwVo3rIGsIyiksc+v3Gxca8gMqwUEkuJmTCnAK5mqRVOmXHcec+FiRs4yqTJOhcAtg4JuxFp0kUv5AhqpHkIQeoBPw7DvHttJ7BFTQ5lv4oU5shsF6VVnm8MS0/htbH37e+BkU+G2ZYJ74vdLRHQ4c9CU6XF0zfOGVUzy0TdkzF7VSDqYXEBPAjkfHZYcnCmHvXvnFN8GaoDwP9qei6ff1Zk+KfViEeTkfLld8KOKMmoMc9QoQlKlth2ZPc0CG74ctmuch5tGz+/7pZq1OGVaBAXO+6VlhemAqqqbvxOUFIT61Q0iDthTH7eQJoXPvxYpXFuQpuD/dACe5gXOc8s+voQh7ZOw+wiq1uGnEeCxXmr28rnPeEwOIp/c1XBv0LxSP1UI=]]></Encrypt>
</xml>";
    const ENVELOPE_MSG_SIGNATURE: &str = "5b1f6d13799384ad1260b0321ecd5296b6bc257b";

    /// With the newlines removed, wechatpy's `WeChatCrypto.encrypt_message(TEXT_XML,
    /// "xxxxxx", "1409304348")` output for the same inputs (see `crypto.rs`'s tests).
    const WECHATPY_ENCRYPTED_REPLY: &str = "<xml><Encrypt><![CDATA[Q3stYC6hdFzMh9T8HCvyDPYd4batj7zR9qX1tTJwVo3rIGsIyiksc+v3Gxca8gMqwUEkuJmTCnAK5mqRVOmXHcec+FiRs4yqTJOhcAtg4JuxFp0kUv5AhqpHkIQeoBPw7DvHttJ7BFTQ5lv4oU5shsF6VVnm8MS0/htbH37e+BkU+G2ZYJ74vdLRHQ4c9CU6XF0zfOGVUzy0TdkzF7VSDqYXEBPAjkfHZYcnCmHvXvnFN8GaoDwP9qei6ff1Zk+KfViEeTkfLld8KOKMmoMc9QoQlKlth2ZPc0CG74ctmuch5tGz+/7pZq1OGVaBAXO+6VlhemAqqqbvxOUFIT61Q0iDthTH7eQJoXPvxYpXFuQpuD/dACe5gXOc8s+voQh7ZOw+wiq1uGnEeCxXmr28rnPeEwOIp/c1XBv0LxSP1UI=]]></Encrypt><MsgSignature><![CDATA[5b1f6d13799384ad1260b0321ecd5296b6bc257b]]></MsgSignature><TimeStamp>1409304348</TimeStamp><Nonce><![CDATA[xxxxxx]]></Nonce></xml>";

    fn text_message(content_xml: &str) -> String {
        format!(
            "<xml><ToUserName><![CDATA[gh_abc]]></ToUserName>\
             <FromUserName><![CDATA[oUser]]></FromUserName>\
             <CreateTime>1409304348</CreateTime><MsgType><![CDATA[text]]></MsgType>\
             <Content>{content_xml}</Content><MsgId>42</MsgId></xml>"
        )
    }

    fn field(xml: &str, name: &str) -> Option<String> {
        parse_fields(xml)
            .expect("parses")
            .get(name)
            .map(str::to_owned)
    }

    #[test]
    fn parses_text() {
        let m = parse(TEXT).expect("parses");
        assert_eq!(
            m,
            Inbound::Text {
                to_user: "toUser".into(),
                from_user: "fromUser".into(),
                create_time: 1348831860,
                content: "this is a test".into(),
                msg_id: "1234567890123456".into(),
            }
        );
        assert_eq!(m.dedupe_key(), "msg:fromUser:1234567890123456");
        assert_eq!(m.to_user(), "toUser");
        assert_eq!(m.from_user(), "fromUser");
        assert_eq!(m.create_time(), 1348831860);
    }

    #[test]
    fn parses_subscribe_without_and_with_scene() {
        let m = parse(SUBSCRIBE).expect("parses");
        assert_eq!(
            m,
            Inbound::Subscribe {
                to_user: "toUser".into(),
                from_user: "FromUser".into(),
                create_time: 123456789,
                scene: None,
            }
        );
        assert_eq!(m.dedupe_key(), "evt:FromUser:123456789");

        let m = parse(SUBSCRIBE_QR).expect("parses");
        assert_eq!(
            m,
            Inbound::Subscribe {
                to_user: "toUser".into(),
                from_user: "FromUser".into(),
                create_time: 123456789,
                scene: Some("123123".into()),
            }
        );
        // An empty EventKey, or one without the prefix, carries no scene.
        let empty_key = SUBSCRIBE.replace("</Event>", "</Event><EventKey><![CDATA[]]></EventKey>");
        assert!(matches!(
            parse(&empty_key),
            Ok(Inbound::Subscribe { scene: None, .. })
        ));
        let odd_key = SUBSCRIBE.replace("</Event>", "</Event><EventKey>last_trade_no_1</EventKey>");
        assert!(matches!(
            parse(&odd_key),
            Ok(Inbound::Subscribe { scene: None, .. })
        ));
        let bare = SUBSCRIBE.replace("</Event>", "</Event><EventKey>qrscene_</EventKey>");
        assert!(matches!(
            parse(&bare),
            Ok(Inbound::Subscribe { scene: None, .. })
        ));
    }

    #[test]
    fn parses_scan() {
        let m = parse(SCAN).expect("parses");
        assert_eq!(
            m,
            Inbound::Scan {
                to_user: "toUser".into(),
                from_user: "FromUser".into(),
                create_time: 123456789,
                scene: "SCENE_VALUE".into(),
            }
        );
        assert_eq!(m.dedupe_key(), "evt:FromUser:123456789");
        let no_key = SCAN.replace("<EventKey><![CDATA[SCENE_VALUE]]></EventKey>", "");
        assert_eq!(parse(&no_key), Err(MessageError::MissingField("EventKey")));
    }

    #[test]
    fn parses_unsubscribe() {
        let m = parse(UNSUBSCRIBE).expect("parses");
        assert_eq!(
            m,
            Inbound::Unsubscribe {
                to_user: "toUser".into(),
                from_user: "FromUser".into(),
                create_time: 123456789,
            }
        );
        assert_eq!(m.dedupe_key(), "evt:FromUser:123456789");
    }

    #[test]
    fn other_messages_and_events() {
        let m = parse(IMAGE).expect("parses");
        assert_eq!(
            m,
            Inbound::Image {
                to_user: "toUser".into(),
                from_user: "fromUser".into(),
                create_time: 1348831860,
                media_id: "media_id".into(),
                msg_id: "1234567890123456".into(),
            }
        );
        assert_eq!(m.dedupe_key(), "msg:fromUser:1234567890123456");
        let hostile = IMAGE.replace("media_id", "../x?y=1&z");
        assert_eq!(parse(&hostile), Err(MessageError::InvalidField("MediaId")));
        let voice = IMAGE.replace("[image]", "[voice]");
        assert!(
            matches!(parse(&voice), Ok(Inbound::Other { ref msg_type, .. }) if msg_type == "voice")
        );
        assert!(
            matches!(parse(CLICK), Ok(Inbound::Other { ref msg_type, .. }) if msg_type == "event")
        );
        let m = parse(SCANCODE_PUSH).expect("nested elements are fine");
        assert!(matches!(m, Inbound::Other { ref msg_type, .. } if msg_type == "event"));
        assert_eq!(m.from_user(), "oMgHVjngRipVsoxg6TuX3vz6glDg");
        // The nested values are not mistaken for the root's children.
        assert_eq!(field(SCANCODE_PUSH, "ScanType"), None);
    }

    #[test]
    fn chinese_content_with_cdata_terminator() {
        // "]]>" cannot appear inside one CDATA section: senders split it across two.
        let xml = text_message("<![CDATA[关于修缮和顺县]]]]><![CDATA[>乡道的建议 😀]]>");
        let m = parse(&xml).expect("parses");
        assert!(
            matches!(m, Inbound::Text { ref content, .. } if content == "关于修缮和顺县]]>乡道的建议 😀")
        );
        assert_eq!(m.dedupe_key(), "msg:oUser:42");
    }

    #[test]
    fn plain_text_values_and_references() {
        let xml = text_message("a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#x4F60;&#22909;");
        assert!(
            matches!(parse(&xml), Ok(Inbound::Text { ref content, .. }) if content == "a <b> & \"c\" 'd' 你好")
        );
        // Content keeps its whitespace and line breaks (CRLF normalised); ids are trimmed.
        let xml =
            text_message("<![CDATA[  two\r\nlines  ]]>").replace("<MsgId>42", "<MsgId>\n  42 ");
        let m = parse(&xml).expect("parses");
        assert!(
            matches!(m, Inbound::Text { ref content, ref msg_id, .. } if content == "  two\nlines  " && msg_id == "42")
        );
        // Empty content is a (strange but) valid text message.
        assert!(
            matches!(parse(&text_message("")), Ok(Inbound::Text { ref content, .. }) if content.is_empty())
        );
        // Self-closing elements are empty values.
        assert!(matches!(
            parse(&text_message("").replace("<Content></Content>", "<Content/>")),
            Ok(Inbound::Text { .. })
        ));
        // An XML declaration, comments and a BOM are fine.
        let xml = format!(
            "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?><!-- c -->{TEXT}<!-- end -->"
        );
        assert!(matches!(parse(&xml), Ok(Inbound::Text { .. })));
    }

    #[test]
    fn malformed_xml_is_rejected() {
        let cases = [
            "",
            "   ",
            "not xml",
            "<xml>",
            "<xml><ToUserName>a</ToUserName>",
            "<xml><ToUserName>a</FromUserName></xml>",
            "<xml><ToUserName><![CDATA[a]]></ToUserName></xml></xml>",
            "<xml></xml><xml></xml>",
            "<xml></xml>trailing",
            "stray<xml></xml>",
            "<xml>loose text<ToUserName>a</ToUserName></xml>",
            "<xml><![CDATA[x]]></xml>",
            "<xml><ToUserName><![CDATA[a]></ToUserName></xml>",
            "<xml><ToUserName>a & b</ToUserName></xml>",
            "<xml><ToUserName>&#0;</ToUserName></xml>",
            "<xml><ToUserName>&#xD800;</ToUserName></xml>",
            "<xml attr=\"1><ToUserName/></xml>",
            "<root><ToUserName>a</ToUserName></root>",
            "<root/>",
        ];
        for xml in cases {
            assert!(
                matches!(parse(xml), Err(MessageError::Malformed(_))),
                "{xml:?}: {:?}",
                parse(xml)
            );
            assert!(parse_encrypted_envelope(xml).is_err(), "{xml:?}");
        }
        // Duplicate fields are ambiguous.
        let dup = TEXT.replace("<MsgId>", "<MsgId>1</MsgId><MsgId>");
        assert!(matches!(parse(&dup), Err(MessageError::Malformed(_))));
    }

    #[test]
    fn missing_and_invalid_fields() {
        let without = |tag: &str| -> String {
            let start = TEXT.find(&format!("<{tag}>")).expect("tag");
            let end_tag = format!("</{tag}>");
            let end = TEXT.find(&end_tag).expect("end tag") + end_tag.len();
            format!("{}{}", &TEXT[..start], &TEXT[end..])
        };
        for (tag, name) in [
            ("ToUserName", "ToUserName"),
            ("FromUserName", "FromUserName"),
            ("CreateTime", "CreateTime"),
            ("MsgType", "MsgType"),
            ("Content", "Content"),
            ("MsgId", "MsgId"),
        ] {
            assert_eq!(
                parse(&without(tag)),
                Err(MessageError::MissingField(name)),
                "{tag}"
            );
        }
        assert_eq!(
            parse(&TEXT.replace("<CreateTime>1348831860", "<CreateTime>soon")),
            Err(MessageError::InvalidField("CreateTime"))
        );
        assert_eq!(
            parse(&TEXT.replace("<CreateTime>1348831860", "<CreateTime>99999999999999999999")),
            Err(MessageError::InvalidField("CreateTime"))
        );
        assert_eq!(
            parse(&TEXT.replace("<MsgId>1234567890123456", "<MsgId>12:34")),
            Err(MessageError::InvalidField("MsgId"))
        );
        assert_eq!(
            parse(&TEXT.replace(
                "<FromUserName><![CDATA[fromUser]]>",
                "<FromUserName><![CDATA[  ]]>"
            )),
            Err(MessageError::MissingField("FromUserName"))
        );
        assert_eq!(
            parse(&SUBSCRIBE.replace("<Event><![CDATA[subscribe]]></Event>", "")),
            Err(MessageError::MissingField("Event"))
        );
        assert_eq!(
            parse("<xml></xml>"),
            Err(MessageError::MissingField("ToUserName"))
        );
        assert_eq!(
            parse("<xml/>"),
            Err(MessageError::MissingField("ToUserName"))
        );
    }

    #[test]
    fn doctype_and_entities_are_rejected() {
        let xxe =
            "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\
                   <xml><ToUserName>&xxe;</ToUserName></xml>";
        assert_eq!(parse(xxe), Err(MessageError::DtdNotAllowed));
        assert_eq!(
            parse_encrypted_envelope(xxe),
            Err(MessageError::DtdNotAllowed)
        );
        let laughs =
            "<!DOCTYPE xml [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>\
                      <xml><Content>&b;&b;&b;</Content></xml>";
        assert_eq!(parse(laughs), Err(MessageError::DtdNotAllowed));
        assert_eq!(
            parse("<!DOCTYPE xml><xml></xml>"),
            Err(MessageError::DtdNotAllowed)
        );
        // Without a DTD an entity cannot be declared: undefined ones are errors.
        let undefined = text_message("&xxe;");
        assert!(
            matches!(parse(&undefined), Err(MessageError::Malformed(ref m)) if m.contains("xxe"))
        );
        // A DOCTYPE inside the root is rejected too.
        let inner = "<xml><!DOCTYPE x><ToUserName>a</ToUserName></xml>";
        assert!(parse(inner).is_err());
    }

    #[test]
    fn body_size_limit() {
        let base = text_message("<![CDATA[]]>");
        let fill = MAX_BODY_BYTES - base.len();
        let at_limit = text_message(&format!("<![CDATA[{}]]>", "x".repeat(fill)));
        assert_eq!(at_limit.len(), MAX_BODY_BYTES);
        assert!(matches!(parse(&at_limit), Ok(Inbound::Text { .. })));
        let over = text_message(&format!("<![CDATA[{}]]>", "x".repeat(fill + 1)));
        assert_eq!(parse(&over), Err(MessageError::TooLarge));
        assert_eq!(parse_encrypted_envelope(&over), Err(MessageError::TooLarge));
    }

    #[test]
    fn encrypted_envelope() {
        let (to_user, encrypt) = parse_encrypted_envelope(ENVELOPE).expect("parses");
        assert_eq!(to_user, "gh_abc");
        assert!(encrypt.starts_with("Q3stYC6h") && encrypt.ends_with("P1UI="));
        // Compatibility mode carries the plain fields too: they are ignored.
        let compat = ENVELOPE.replace("</xml>", "<MsgType><![CDATA[text]]></MsgType></xml>");
        assert_eq!(
            parse_encrypted_envelope(&compat).map(|(t, _)| t).as_deref(),
            Ok("gh_abc")
        );
        assert_eq!(
            parse_encrypted_envelope("<xml><ToUserName>gh</ToUserName></xml>"),
            Err(MessageError::MissingField("Encrypt"))
        );
        assert_eq!(
            parse_encrypted_envelope("<xml><Encrypt>abc</Encrypt></xml>"),
            Err(MessageError::MissingField("ToUserName"))
        );
    }

    #[test]
    fn safe_mode_end_to_end_with_wechatpy_vectors() {
        let (token, timestamp, nonce) = ("pamtest", "1409304348", "xxxxxx");
        let cipher = Cipher::new(
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "wxb11529c136998cb6",
        )
        .expect("valid key");
        let (_, encrypt) = parse_encrypted_envelope(ENVELOPE).expect("parses");
        assert!(signatures_match(
            &msg_signature(token, timestamp, nonce, &encrypt),
            ENVELOPE_MSG_SIGNATURE
        ));
        let plain = cipher.decrypt(&encrypt).expect("decrypts");
        let m = parse(&plain).expect("parses");
        assert_eq!(
            m,
            Inbound::Text {
                to_user: "gh_abc".into(),
                from_user: "oUser".into(),
                create_time: 1409304348,
                content: "你好，人大代表".into(),
                msg_id: "1234567890123456".into(),
            }
        );
        // The reply wrapper matches wechatpy's byte for byte (newlines aside).
        assert_eq!(
            encrypted_reply(&encrypt, ENVELOPE_MSG_SIGNATURE, timestamp, nonce),
            WECHATPY_ENCRYPTED_REPLY
        );
        // And a reply we encrypt opens again.
        let reply = text_reply(m.from_user(), m.to_user(), 1409304349, "收到]]>谢谢");
        let enc = cipher.encrypt(&reply);
        let sig = msg_signature(token, timestamp, nonce, &enc);
        let wrapped = encrypted_reply(&enc, &sig, timestamp, nonce);
        assert_eq!(field(&wrapped, "Encrypt").as_deref(), Some(enc.as_str()));
        assert_eq!(
            field(&wrapped, "MsgSignature").as_deref(),
            Some(sig.as_str())
        );
        assert_eq!(cipher.decrypt(&enc).as_deref(), Ok(reply.as_str()));
    }

    #[test]
    fn text_reply_format_and_escaping() {
        assert_eq!(
            text_reply("oUser", "gh_abc", 1409304349, "你好"),
            "<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_abc]]></FromUserName>\
             <CreateTime>1409304349</CreateTime><MsgType><![CDATA[text]]></MsgType>\
             <Content><![CDATA[你好]]></Content></xml>"
        );
        let tricky = "议案]]><MsgType>news</MsgType>]]]]>&lt;\u{1}end\u{FFFF}";
        let reply = text_reply("o]]>User", "gh", 7, tricky);
        assert!(reply.contains("]]]]><![CDATA[>"));
        let fields = parse_fields(&reply).expect("well-formed");
        assert_eq!(
            fields.get("Content"),
            Some("议案]]><MsgType>news</MsgType>]]]]>&lt;end")
        );
        assert_eq!(fields.get("ToUserName"), Some("o]]>User"));
        assert_eq!(fields.get("MsgType"), Some("text"));
        assert_eq!(fields.get("CreateTime"), Some("7"));
        assert_eq!(fields.0.len(), 5);
    }

    #[test]
    fn encrypted_reply_escapes_untrusted_query_values() {
        // timestamp and nonce come from the request's query string.
        let reply = encrypted_reply("ZW5j", "sig", "1<x>&", "n]]><Encrypt>evil</Encrypt>");
        let fields = parse_fields(&reply).expect("well-formed");
        assert_eq!(fields.get("Encrypt"), Some("ZW5j"));
        assert_eq!(fields.get("TimeStamp"), Some("1<x>&"));
        assert_eq!(fields.get("Nonce"), Some("n]]><Encrypt>evil</Encrypt>"));
        assert_eq!(fields.0.len(), 4);
    }

    #[test]
    fn never_panics_on_garbage() {
        let samples = [
            TEXT,
            SUBSCRIBE_QR,
            SCAN,
            UNSUBSCRIBE,
            SCANCODE_PUSH,
            ENVELOPE,
        ];
        for sample in samples {
            for (end, _) in sample.char_indices() {
                let _ = parse(&sample[..end]);
                let _ = parse_encrypted_envelope(&sample[..end]);
            }
        }
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let alphabet: Vec<char> = "<>/![]CDATA&;#x \"'=?-xmlTo中\u{0}".chars().collect();
        for _ in 0..3000 {
            let len = (state % 80) as usize;
            let s: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = parse(&s);
            let _ = parse(&format!("<xml>{s}</xml>"));
            let _ = parse_encrypted_envelope(&s);
        }
    }

    #[test]
    fn the_same_msg_id_from_two_followers_is_two_messages() {
        let a = parse(TEXT).expect("parses");
        let b = parse(&TEXT.replace("fromUser", "otherUser")).expect("parses");
        assert_ne!(a.dedupe_key(), b.dedupe_key());
        assert_eq!(b.dedupe_key(), "msg:otherUser:1234567890123456");
    }

    #[test]
    fn canonical_form_tells_messages_apart_and_ignores_xml_spelling() {
        let base = parse(TEXT).expect("parses");
        let respelled = TEXT
            .replace("<![CDATA[this is a test]]>", "this is a test")
            .replace("  ", "");
        assert_eq!(
            parse(&respelled).expect("parses").canonical(),
            base.canonical()
        );
        let variants = [
            TEXT.replace("fromUser", "fromUser2"),
            TEXT.replace("toUser", "toUser2"),
            TEXT.replace("1348831860", "1348831861"),
            TEXT.replace("this is a test", "this is a tesT"),
            TEXT.replace("1234567890123456", "1234567890123457"),
        ];
        for variant in &variants {
            assert_ne!(
                parse(variant).expect("parses").canonical(),
                base.canonical(),
                "{variant}"
            );
        }
        // Length prefixes: a value cannot bleed into the next one.
        let a = parse(&text_message("ab")).expect("parses").canonical();
        let b = parse(&text_message("a")).expect("parses").canonical();
        assert_ne!(a, b);
        assert_ne!(
            parse(SUBSCRIBE).expect("parses").canonical(),
            parse(UNSUBSCRIBE).expect("parses").canonical()
        );
    }

    #[test]
    fn ids_must_be_id_shaped() {
        assert!(is_id_shaped("oMgHVjngRipVsoxg6TuX3vz6glDg"));
        assert!(is_id_shaped("gh_e136c6e50636"));
        assert!(is_id_shaped("o-x_Y1"));
        assert!(is_id_shaped(&"a".repeat(MAX_ID_LEN)));
        for bad in [
            "",
            "o user",
            "o\u{0}user",
            "o<user>",
            "oUser\u{7f}",
            "用户",
            "o]]>x",
            &"a".repeat(MAX_ID_LEN + 1),
        ] {
            assert!(!is_id_shaped(bad), "{bad:?}");
        }
        for (from, to, name) in [
            ("o\u{0}User", "toUser", "FromUserName"),
            ("o&lt;b&gt;", "toUser", "FromUserName"),
            ("fromUser", "to User", "ToUserName"),
        ] {
            let xml = TEXT
                .replace("<![CDATA[fromUser]]>", from)
                .replace("<![CDATA[toUser]]>", to);
            assert_eq!(parse(&xml), Err(MessageError::InvalidField(name)), "{xml}");
        }
        let long = "o".repeat(MAX_ID_LEN + 1);
        assert_eq!(
            parse(&SUBSCRIBE.replace("[FromUser]", &format!("[{long}]"))),
            Err(MessageError::InvalidField("FromUserName"))
        );
        // Surrounding whitespace is still trimmed, as for every id.
        assert!(parse(&TEXT.replace("<![CDATA[fromUser]]>", " fromUser\n")).is_ok());
    }

    #[test]
    fn msg_id_length_is_bounded() {
        let long = TEXT.replace("1234567890123456", &"9".repeat(MAX_MSG_ID_LEN + 1));
        assert_eq!(parse(&long), Err(MessageError::InvalidField("MsgId")));
        let max = TEXT.replace("1234567890123456", &"9".repeat(MAX_MSG_ID_LEN));
        assert!(parse(&max).is_ok());
    }

    #[test]
    fn control_characters_are_removed_from_content() {
        assert_eq!(
            strip_control_chars("a\u{0}b\u{1}c\u{1b}[31md\u{7f}e\tf\ng\rh"),
            "abc[31mde\tf\ng\rh"
        );
        assert!(matches!(
            strip_control_chars("路灯\t坏了"),
            Cow::Borrowed(_)
        ));
        // A raw NUL (possible in a decrypted safe-mode body) never reaches the content.
        let m = parse(&text_message("<![CDATA[路灯\u{0}坏了\u{8}很久]]>")).expect("parses");
        assert!(
            matches!(m, Inbound::Text { ref content, .. } if content == "路灯坏了很久"),
            "{m:?}"
        );
    }

    #[test]
    fn errors_display() {
        assert!(MessageError::TooLarge.to_string().contains("65536"));
        assert_eq!(
            MessageError::MissingField("MsgId").to_string(),
            "missing element <MsgId>"
        );
    }
}
