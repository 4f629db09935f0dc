//! The WeChat official account channel (公众号消息推送).
pub mod crypto;
pub mod message;
pub mod replay;
