//! String enums backing the `CHECK (... IN (...))` columns of the schema.
//!
//! Each `string_value` is exactly the string stored in the database; serde uses the
//! same spelling (`snake_case`), so JSON payloads and rows agree.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// `township.kind`: a township (乡镇) or the urban district (城区).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum TownshipKind {
    /// Town (镇).
    #[sea_orm(string_value = "town")]
    Town,
    /// Township (乡).
    #[sea_orm(string_value = "township")]
    Township,
    /// Urban district (城区).
    #[sea_orm(string_value = "district")]
    District,
}

/// `station.kind`: the four kinds of station (站点).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum StationKind {
    /// Deputy liaison station (联络站).
    #[sea_orm(string_value = "liaison_station")]
    LiaisonStation,
    /// Deputy service point (代表服务点).
    #[sea_orm(string_value = "service_point")]
    ServicePoint,
    /// Deputy service post (代表服务岗).
    #[sea_orm(string_value = "service_post")]
    ServicePost,
    /// Demonstration base (示范基地).
    #[sea_orm(string_value = "demonstration_base")]
    DemonstrationBase,
}

/// `department.level`: the level of a handling department (承办部门).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum DepartmentLevel {
    /// Township-level department (乡镇); `department.township_id` is set.
    #[sea_orm(string_value = "township")]
    Township,
    /// County-level department; `department.township_id` is NULL.
    #[sea_orm(string_value = "county")]
    County,
}

/// `deputy.gender`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    #[sea_orm(string_value = "male")]
    Male,
    #[sea_orm(string_value = "female")]
    Female,
}

/// `deputy.level`: the congress a deputy (人大代表) was elected to.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum CongressLevel {
    #[sea_orm(string_value = "national")]
    National,
    #[sea_orm(string_value = "provincial")]
    Provincial,
    #[sea_orm(string_value = "municipal")]
    Municipal,
    #[sea_orm(string_value = "county")]
    County,
    #[sea_orm(string_value = "township")]
    Township,
}

/// `deputy.term_status`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum TermStatus {
    /// First-term deputy (新任).
    #[sea_orm(string_value = "first_term")]
    FirstTerm,
    /// Re-elected deputy (连任).
    #[sea_orm(string_value = "re_elected")]
    ReElected,
}

/// `liaison.kind`: part-time liaisons (联络员) and station administrators.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum LiaisonKind {
    /// Grid worker (网格员).
    #[sea_orm(string_value = "grid_worker")]
    GridWorker,
    /// Volunteer (志愿者).
    #[sea_orm(string_value = "volunteer")]
    Volunteer,
    /// Community police officer.
    #[sea_orm(string_value = "community_police")]
    CommunityPolice,
    /// Property-management staff.
    #[sea_orm(string_value = "property_staff")]
    PropertyStaff,
    /// Station administrator.
    #[sea_orm(string_value = "station_admin")]
    StationAdmin,
}

/// `pairing.kind`: the kinds of pairing (三联结对).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum PairingKind {
    /// Leading-cadre deputy (领导干部代表) ↔ grassroots deputy (基层代表).
    #[sea_orm(string_value = "leader_grassroots")]
    LeaderGrassroots,
    /// Re-elected deputy (连任) ↔ first-term deputy (新任).
    #[sea_orm(string_value = "reelected_first_term")]
    ReelectedFirstTerm,
    /// Provincial or municipal deputy ↔ county or township deputy.
    #[sea_orm(string_value = "upper_lower")]
    UpperLower,
    /// Standing-committee member (常委会组成人员) ↔ 5-8 grassroots deputies.
    #[sea_orm(string_value = "sc_member_grassroots")]
    ScMemberGrassroots,
    /// Standing-committee leader (常委会领导) covering a township (包联);
    /// the pairing's `township_id` is set instead of `junior_deputy_id`.
    #[sea_orm(string_value = "sc_leader_township")]
    ScLeaderTownship,
}

/// `activity.kind`: duty activities, mostly the "eight ones" (八个一).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// Receiving citizens (接待选民).
    #[sea_orm(string_value = "citizen_reception")]
    CitizenReception,
    /// Station activity (进站活动).
    #[sea_orm(string_value = "station_activity")]
    StationActivity,
    /// Study or training (学习培训).
    #[sea_orm(string_value = "study_training")]
    StudyTraining,
    /// Household visit.
    #[sea_orm(string_value = "household_visit")]
    HouseholdVisit,
    /// Inspection (视察), possibly joint (联合视察).
    #[sea_orm(string_value = "inspection")]
    Inspection,
    /// Research (调研), possibly joint (联动调研).
    #[sea_orm(string_value = "research")]
    Research,
    /// Public-sentiment diary entry (民情日志).
    #[sea_orm(string_value = "diary_entry")]
    DiaryEntry,
    /// Livelihood project (民生实事).
    #[sea_orm(string_value = "livelihood_project")]
    LivelihoodProject,
    /// Duty report (述职交流).
    #[sea_orm(string_value = "duty_report")]
    DutyReport,
}

/// `account_role.role`: what an account may do, optionally scoped.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Citizen (群众/选民).
    #[sea_orm(string_value = "citizen")]
    Citizen,
    /// Deputy (人大代表).
    #[sea_orm(string_value = "deputy")]
    Deputy,
    /// Station staff or liaison (联络员); scoped to a station.
    #[sea_orm(string_value = "station_staff")]
    StationStaff,
    /// Handler in a department (承办部门); scoped to a department.
    #[sea_orm(string_value = "department_handler")]
    DepartmentHandler,
    /// Supervisor (常委会/工作机构); optionally scoped to a township.
    #[sea_orm(string_value = "supervisor")]
    Supervisor,
    /// Platform operator.
    #[sea_orm(string_value = "admin")]
    Admin,
}

/// `petition.channel`: how an opinion item reached the platform.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Station reception.
    #[sea_orm(string_value = "station_reception")]
    StationReception,
    /// Collected by a deputy on a visit (代表收集).
    #[sea_orm(string_value = "deputy_visit")]
    DeputyVisit,
    /// The mobile app.
    #[sea_orm(string_value = "app")]
    App,
    /// A deputy's personal QR code (专属二维码).
    #[sea_orm(string_value = "qr_code")]
    QrCode,
    /// The WeChat official account.
    #[sea_orm(string_value = "wechat")]
    Wechat,
}

/// `petition.state`: the closed loop (闭环) of an opinion item (社情民意).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum PetitionState {
    /// Collected by a deputy or submitted by a citizen (代表收集).
    #[sea_orm(string_value = "submitted")]
    Submitted,
    /// Registered in the station ledger (站点建账).
    #[sea_orm(string_value = "registered")]
    Registered,
    /// Forwarded level by level (逐级转办).
    #[sea_orm(string_value = "forwarded")]
    Forwarded,
    /// Accepted by the responsible department (部门承接).
    #[sea_orm(string_value = "accepted")]
    Accepted,
    /// Result fed back (结果反馈).
    #[sea_orm(string_value = "resolved")]
    Resolved,
    /// Closed, after the satisfaction rating (满意度评价).
    #[sea_orm(string_value = "closed")]
    Closed,
    /// Declined; see `petition.decline_reason`.
    #[sea_orm(string_value = "declined")]
    Declined,
    /// Merged into another item; see `petition.merged_into_id`.
    #[sea_orm(string_value = "merged")]
    Merged,
}

/// `petition.urgency`, set when the item is classified (分类处置).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    #[sea_orm(string_value = "normal")]
    Normal,
    #[sea_orm(string_value = "urgent")]
    Urgent,
    #[sea_orm(string_value = "critical")]
    Critical,
}

/// `petition.handling_level`: graded assignment (分级交办).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum HandlingLevel {
    #[sea_orm(string_value = "station")]
    Station,
    #[sea_orm(string_value = "township")]
    Township,
    #[sea_orm(string_value = "county")]
    County,
}

/// `petition_department.role`: lead (主办) or assisting (协办) department.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
#[serde(rename_all = "snake_case")]
pub enum DepartmentRole {
    /// Lead department (主办).
    #[sea_orm(string_value = "lead")]
    Lead,
    /// Assisting department (协办).
    #[sea_orm(string_value = "assist")]
    Assist,
}

/// `petition_department.status`: where a forwarded item stands in one department.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum ForwardStatus {
    /// Forwarded to the department (转办), not yet accepted.
    #[sea_orm(string_value = "forwarded")]
    Forwarded,
    /// Accepted by the department (部门承接).
    #[sea_orm(string_value = "accepted")]
    Accepted,
    /// Sent back by the department; see `return_reason`.
    #[sea_orm(string_value = "returned")]
    Returned,
    /// Result reported by the department (结果反馈).
    #[sea_orm(string_value = "reported")]
    Reported,
}

/// Satisfaction rating (满意度评价): `petition.satisfaction` and `petition_rating.rating`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    #[sea_orm(string_value = "satisfied")]
    Satisfied,
    #[sea_orm(string_value = "basically_satisfied")]
    BasicallySatisfied,
    #[sea_orm(string_value = "unsatisfied")]
    Unsatisfied,
}

/// `suggestion.status`: a deputy's suggestion (意见建议) awaiting or having an answer.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum SuggestionStatus {
    #[sea_orm(string_value = "submitted")]
    Submitted,
    /// Answered; `suggestion.adoption` is then set.
    #[sea_orm(string_value = "answered")]
    Answered,
}

/// `suggestion.adoption`: whether the suggestion was adopted.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Adoption {
    #[sea_orm(string_value = "adopted")]
    Adopted,
    #[sea_orm(string_value = "partly_adopted")]
    PartlyAdopted,
    #[sea_orm(string_value = "not_adopted")]
    NotAdopted,
}

/// `story.status`: a duty story for the showcase feed (代表风采).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum StoryStatus {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "submitted")]
    Submitted,
    /// Published; `story.published_at` is then set.
    #[sea_orm(string_value = "published")]
    Published,
    /// Sent back to the author; see `story.return_reason`.
    #[sea_orm(string_value = "returned")]
    Returned,
}

/// `attachment.purpose`: what an upload is for, and so what it may be attached to.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum AttachmentPurpose {
    /// A citizen's photo or document with an opinion item (随手拍).
    #[sea_orm(string_value = "petition")]
    Petition,
    /// A department's result document.
    #[sea_orm(string_value = "result")]
    Result,
    /// A showcase story's picture.
    #[sea_orm(string_value = "story")]
    Story,
    /// A photo of a deputy's activity.
    #[sea_orm(string_value = "activity")]
    Activity,
}
