//! GraphQL enums mirroring the entity enums (entities carry no GraphQL derives).
macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident => $entity:path { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl From<$entity> for $name {
            fn from(value: $entity) -> Self {
                use $entity as E;
                match value { $(E::$variant => $name::$variant),+ }
            }
        }

        impl From<$name> for $entity {
            fn from(value: $name) -> Self {
                use $entity as E;
                match value { $($name::$variant => E::$variant),+ }
            }
        }
    };
}

mirror_enum!(
    /// 乡镇 / 城区
    TownshipKind => entity::TownshipKind { Town, Township, District }
);

mirror_enum!(
    /// The four kinds of site in the liaison network.
    StationKind => entity::StationKind {
        /// 代表联络站
        LiaisonStation,
        /// 代表服务点
        ServicePoint,
        /// 代表服务岗
        ServicePost,
        /// 示范基地
        DemonstrationBase,
    }
);

mirror_enum!(
    /// Level of the people's congress a deputy was elected to.
    CongressLevel => entity::CongressLevel { National, Provincial, Municipal, County, Township }
);

mirror_enum!(
    /// 新任 (first term) or 连任 (re-elected).
    TermStatus => entity::TermStatus { FirstTerm, ReElected }
);

mirror_enum!(Gender => entity::Gender { Male, Female });

mirror_enum!(
    /// Whether a department is a township or a county body.
    DepartmentLevel => entity::DepartmentLevel { Township, County }
);

mirror_enum!(
    /// What an account may do; several roles may be held at once.
    Role => entity::Role {
        /// 群众
        Citizen,
        /// 人大代表
        Deputy,
        /// 站点工作人员 / 联络员 (scoped to a station)
        StationStaff,
        /// 承办部门 (scoped to a department)
        DepartmentHandler,
        /// 督办 (county-wide, or scoped to a township)
        Supervisor,
        /// 平台管理员
        Admin,
    }
);

mirror_enum!(
    /// 三联结对 kinds, plus standing-committee pairing and coverage.
    PairingKind => entity::PairingKind {
        /// 领导干部代表联系基层代表
        LeaderGrassroots,
        /// 连任代表联系新任代表
        ReelectedFirstTerm,
        /// 省市人大代表联系县乡代表
        UpperLower,
        /// 常委会组成人员联系基层代表 (5-8 each)
        ScMemberGrassroots,
        /// 常委会领导包联乡镇 (2 each)
        ScLeaderTownship,
    }
);

mirror_enum!(
    /// Kinds of duty activity.
    ActivityKind => entity::ActivityKind {
        /// 接待选民
        CitizenReception,
        /// 进站活动
        StationActivity,
        /// 学习培训
        StudyTraining,
        /// 入户走访
        HouseholdVisit,
        /// 视察
        Inspection,
        /// 调研
        Research,
        /// 民情日志
        DiaryEntry,
        /// 民生实事
        LivelihoodProject,
        /// 述职交流
        DutyReport,
    }
);

mirror_enum!(
    /// Showcase story workflow.
    StoryStatus => entity::StoryStatus { Draft, Submitted, Published, Returned }
);

mirror_enum!(
    /// Part-time liaisons (兼职联络员).
    LiaisonKind => entity::LiaisonKind {
        /// 网格员
        GridWorker,
        /// 志愿者
        Volunteer,
        /// 社区民警
        CommunityPolice,
        /// 物业人员
        PropertyStaff,
        /// 站点管理员
        StationAdmin,
    }
);

mirror_enum!(
    /// How an opinion item arrived.
    Channel => entity::Channel {
        /// 站内接待
        StationReception,
        /// 代表走访
        DeputyVisit,
        /// 手机应用 / 网上
        App,
        /// 扫代表二维码
        QrCode,
        /// 微信公众号
        Wechat,
    }
);

mirror_enum!(
    /// Where an opinion item stands in the closed loop.
    PetitionState => entity::PetitionState {
        /// 已收集
        Submitted,
        /// 已建账
        Registered,
        /// 已转办
        Forwarded,
        /// 已承接 (in handling)
        Accepted,
        /// 已反馈 (result given, awaiting rating)
        Resolved,
        /// 已办结
        Closed,
        /// 不予受理
        Declined,
        /// 已合并
        Merged,
    }
);

mirror_enum!(Urgency => entity::Urgency { Normal, Urgent, Critical });

mirror_enum!(
    /// 分级交办: the level that handles an item.
    HandlingLevel => entity::HandlingLevel { Station, Township, County }
);

mirror_enum!(
    /// 满意度评价
    Satisfaction => entity::Satisfaction { Satisfied, BasicallySatisfied, Unsatisfied }
);

mirror_enum!(
    /// A department's answer to a suggestion.
    Adoption => entity::Adoption { Adopted, PartlyAdopted, NotAdopted }
);

mirror_enum!(
    /// 主办 or 协办.
    DepartmentRole => entity::DepartmentRole { Lead, Assist }
);

mirror_enum!(
    /// A department's part in an item.
    ForwardStatus => entity::ForwardStatus { Forwarded, Accepted, Returned, Reported }
);

mirror_enum!(SuggestionStatus => entity::SuggestionStatus { Submitted, Answered });

mirror_enum!(
    /// What an upload is for, and so what it may be attached to.
    AttachmentPurpose => entity::AttachmentPurpose {
        /// A citizen's photo or document with an opinion item (随手拍).
        Petition,
        /// A department's result document.
        Result,
        /// A showcase story's picture.
        Story,
        /// A photo of a deputy's activity.
        Activity,
    }
);
