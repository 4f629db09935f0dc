//! Opaque, globally unique node ids (Relay): base64url of "Type:row-id".
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::{AppError, AppResult};

/// Every type that can be fetched through `node(id:)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    Township,
    Station,
    Grid,
    Deputy,
    Department,
    Account,
    Pairing,
    Activity,
    Campaign,
    Story,
    Petition,
    Suggestion,
    Category,
    /// An in-app notice (its account's own).
    Notification,
    /// One notice to one recipient over one channel (admins).
    NotificationDelivery,
    /// An Open311 client's API key (admins; not fetched through `node`).
    Open311Key,
}

impl NodeKind {
    pub const ALL: &'static [NodeKind] = &[
        NodeKind::Township,
        NodeKind::Station,
        NodeKind::Grid,
        NodeKind::Deputy,
        NodeKind::Department,
        NodeKind::Account,
        NodeKind::Pairing,
        NodeKind::Activity,
        NodeKind::Campaign,
        NodeKind::Story,
        NodeKind::Petition,
        NodeKind::Suggestion,
        NodeKind::Category,
        NodeKind::Notification,
        NodeKind::NotificationDelivery,
        NodeKind::Open311Key,
    ];

    pub fn type_name(self) -> &'static str {
        match self {
            NodeKind::Township => "Township",
            NodeKind::Station => "Station",
            NodeKind::Grid => "Grid",
            NodeKind::Deputy => "Deputy",
            NodeKind::Department => "Department",
            NodeKind::Account => "Account",
            NodeKind::Pairing => "Pairing",
            NodeKind::Activity => "Activity",
            NodeKind::Campaign => "Campaign",
            NodeKind::Story => "Story",
            NodeKind::Petition => "Petition",
            NodeKind::Suggestion => "Suggestion",
            NodeKind::Category => "Category",
            NodeKind::Notification => "Notification",
            NodeKind::NotificationDelivery => "NotificationDelivery",
            NodeKind::Open311Key => "Open311Key",
        }
    }

    fn from_type_name(name: &str) -> Option<Self> {
        NodeKind::ALL
            .iter()
            .copied()
            .find(|k| k.type_name() == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId {
    pub kind: NodeKind,
    pub id: i64,
}

impl NodeId {
    pub fn new(kind: NodeKind, id: i64) -> Self {
        NodeId { kind, id }
    }

    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.kind.type_name(), self.id))
    }

    pub fn decode(raw: &str) -> AppResult<Self> {
        let invalid = || AppError::bad_input("id", format!("无效的 ID (invalid id {raw:?})"));
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (type_name, id) = text.split_once(':').ok_or_else(invalid)?;
        let kind = NodeKind::from_type_name(type_name).ok_or_else(invalid)?;
        let id: i64 = id.parse().map_err(|_| invalid())?;
        if id <= 0 {
            return Err(invalid());
        }
        Ok(NodeId { kind, id })
    }

    /// Decodes an id that must name a node of `kind` (an argument such as `townshipId`).
    /// [`NodeId::decode_as`] for an optional argument: `None` stays `None`.
    pub fn decode_optional(
        field: &str,
        raw: Option<&str>,
        kind: NodeKind,
    ) -> AppResult<Option<i64>> {
        raw.map(|raw| NodeId::decode_as(field, raw, kind))
            .transpose()
    }

    pub fn decode_as(field: &str, raw: &str, kind: NodeKind) -> AppResult<i64> {
        match NodeId::decode(raw) {
            Ok(node) if node.kind == kind => Ok(node.id),
            _ => Err(AppError::bad_input(
                field,
                format!(
                    "{field} 必须是 {} 的 ID (must be a {} id)",
                    kind.type_name(),
                    kind.type_name()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_for_every_kind() {
        for kind in NodeKind::ALL {
            let id = NodeId::new(*kind, 12345);
            assert_eq!(NodeId::decode(&id.encode()), Ok(id));
        }
    }

    #[test]
    fn ids_are_opaque_and_distinct_across_kinds() {
        let a = NodeId::new(NodeKind::Station, 1).encode();
        let b = NodeId::new(NodeKind::Deputy, 1).encode();
        assert_ne!(a, b);
        assert!(!a.contains("Station"));
    }

    #[test]
    fn malformed_ids_are_bad_input() {
        for raw in [
            "",
            "!!!",
            "U3RhdGlvbg",
            &URL_SAFE_NO_PAD.encode("Nope:1"),
            &URL_SAFE_NO_PAD.encode("Station:-3"),
            &URL_SAFE_NO_PAD.encode("Station:x"),
        ] {
            let err = NodeId::decode(raw).expect_err(raw);
            assert_eq!(err.code(), "BAD_USER_INPUT");
        }
        let station = NodeId::new(NodeKind::Station, 3).encode();
        assert!(NodeId::decode_as("townshipId", &station, NodeKind::Township).is_err());
        assert_eq!(
            NodeId::decode_as("stationId", &station, NodeKind::Station),
            Ok(3)
        );
    }
}
