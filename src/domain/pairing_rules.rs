//! Pairing (三联结对) and coverage (包联) rules.
//!
//! [`check_fit`] decides whether a pairing's kind fits both deputies (or the township);
//! [`coverage_gaps`] reports where the coverage rules (a standing-committee member pairs
//! with 5-8 grassroots deputies; a standing-committee leader covers 2 townships and visits
//! grassroots stations at least twice a month) are not met. Gaps are reported, never
//! enforced by refusing writes.
use entity::{CongressLevel, PairingKind, TermStatus};

use crate::error::{AppError, AppResult};

/// The attributes of a deputy that pairing rules look at (from `deputy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeputyTraits {
    pub id: i64,
    pub level: CongressLevel,
    /// Leading-cadre deputy (领导干部代表); otherwise grassroots (基层代表).
    pub is_leading_cadre: bool,
    pub term_status: TermStatus,
    /// Standing-committee member (常委会组成人员).
    pub is_sc_member: bool,
    /// Standing-committee leader (常委会领导).
    pub is_sc_leader: bool,
    pub active: bool,
}

const SENIOR: &str = "seniorDeputyId";
const JUNIOR: &str = "juniorDeputyId";
const TOWNSHIP: &str = "townshipId";
const KIND: &str = "kind";

/// Does a pairing of `kind` fit? Senior/junior per kind:
/// - `LeaderGrassroots`: senior a leading cadre, junior grassroots (not a leading cadre);
/// - `ReelectedFirstTerm`: senior re-elected, junior first-term;
/// - `UpperLower`: senior provincial or municipal, junior county or township;
/// - `ScMemberGrassroots`: senior a standing-committee member, junior grassroots;
/// - `ScLeaderTownship`: senior a standing-committee leader, no junior (a township instead).
///
/// Self-pairing and inactive deputies are refused. Errors are BAD_USER_INPUT naming the
/// field (`juniorDeputyId`, `seniorDeputyId`, `townshipId` or `kind`) and saying which
/// attribute does not fit. `kind` is named when the input has the shape of the other
/// family (a township for a deputy-to-deputy kind, or a deputy for a township coverage).
pub fn check_fit(
    kind: PairingKind,
    senior: &DeputyTraits,
    junior: Option<&DeputyTraits>,
    township_id: Option<i64>,
) -> AppResult<()> {
    if kind == PairingKind::ScLeaderTownship {
        return check_township_coverage(senior, junior, township_id);
    }
    let junior = match (junior, township_id) {
        (Some(junior), None) => junior,
        (None, Some(_)) => {
            return Err(AppError::bad_input(
                KIND,
                "只有常委会领导包联乡镇的结对可指定乡镇,该类型须指定结对代表 \
                 (only a standing-committee leader's coverage names a township; this kind pairs two deputies)",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(AppError::bad_input(
                TOWNSHIP,
                "代表之间结对不应指定乡镇 (a pairing of two deputies takes no township)",
            ))
        }
        (None, None) => {
            return Err(AppError::bad_input(
                JUNIOR,
                "须指定结对代表 (the junior deputy is required)",
            ))
        }
    };
    if senior.id == junior.id {
        return Err(AppError::bad_input(
            JUNIOR,
            "代表不能与自己结对 (a deputy cannot be paired with themselves)",
        ));
    }
    check_active(SENIOR, senior)?;
    check_active(JUNIOR, junior)?;
    match kind {
        PairingKind::LeaderGrassroots => {
            require(
                SENIOR,
                senior.is_leading_cadre,
                "领导干部代表联系基层代表:联系人须为领导干部代表 (the senior deputy must be a leading cadre)",
            )?;
            require(
                JUNIOR,
                !junior.is_leading_cadre,
                "领导干部代表联系基层代表:被联系人须为基层代表 (the junior deputy must be a grassroots deputy, not a leading cadre)",
            )
        }
        PairingKind::ReelectedFirstTerm => {
            require(
                SENIOR,
                senior.term_status == TermStatus::ReElected,
                "连任代表联系新任代表:联系人须为连任代表 (the senior deputy must be re-elected)",
            )?;
            require(
                JUNIOR,
                junior.term_status == TermStatus::FirstTerm,
                "连任代表联系新任代表:被联系人须为新任代表 (the junior deputy must be in a first term)",
            )
        }
        PairingKind::UpperLower => {
            require(
                SENIOR,
                matches!(
                    senior.level,
                    CongressLevel::Provincial | CongressLevel::Municipal
                ),
                "省市人大代表联系县乡代表:联系人须为省级或市级人大代表 (the senior deputy must be a provincial or municipal deputy)",
            )?;
            require(
                JUNIOR,
                matches!(junior.level, CongressLevel::County | CongressLevel::Township),
                "省市人大代表联系县乡代表:被联系人须为县级或乡级人大代表 (the junior deputy must be a county or township deputy)",
            )
        }
        PairingKind::ScMemberGrassroots => {
            require(
                SENIOR,
                senior.is_sc_member,
                "常委会组成人员联系基层代表:联系人须为常委会组成人员 (the senior deputy must be a standing-committee member)",
            )?;
            require(
                JUNIOR,
                !junior.is_leading_cadre,
                "常委会组成人员联系基层代表:被联系人须为基层代表 (the junior deputy must be a grassroots deputy, not a leading cadre)",
            )
        }
        // Handled above; kept explicit so that a new kind fails to compile here.
        PairingKind::ScLeaderTownship => Ok(()),
    }
}

fn check_township_coverage(
    senior: &DeputyTraits,
    junior: Option<&DeputyTraits>,
    township_id: Option<i64>,
) -> AppResult<()> {
    match (junior, township_id) {
        (None, Some(_)) => {}
        (Some(_), None) => {
            return Err(AppError::bad_input(
                KIND,
                "常委会领导包联须指定乡镇而非代表 (a standing-committee leader covers a township, not a deputy)",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(AppError::bad_input(
                JUNIOR,
                "常委会领导包联乡镇不应指定结对代表 (a township coverage takes no junior deputy)",
            ))
        }
        (None, None) => {
            return Err(AppError::bad_input(
                TOWNSHIP,
                "常委会领导包联须指定乡镇 (the township is required)",
            ))
        }
    }
    check_active(SENIOR, senior)?;
    require(
        SENIOR,
        senior.is_sc_leader,
        "常委会领导包联乡镇:联系人须为常委会领导 (the senior deputy must be a standing-committee leader)",
    )
}

fn check_active(field: &str, deputy: &DeputyTraits) -> AppResult<()> {
    require(
        field,
        deputy.active,
        "该代表已停用,不能结对 (an inactive deputy cannot be paired)",
    )
}

fn require(field: &str, ok: bool, message: &str) -> AppResult<()> {
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_input(field, message))
    }
}

/// A standing-committee member pairs with at least this many grassroots deputies.
pub const MEMBER_MIN: usize = 5;
/// ... and at most this many.
pub const MEMBER_MAX: usize = 8;
/// A standing-committee leader covers exactly this many townships.
pub const LEADER_TOWNSHIPS: usize = 2;
/// A standing-committee leader visits grassroots stations at least this often a month.
pub const LEADER_VISITS_PER_MONTH: usize = 2;

/// A coverage rule that is not met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gap {
    /// Fewer than [`MEMBER_MIN`] active grassroots pairings.
    MemberTooFew { member: i64, grassroots: usize },
    /// More than [`MEMBER_MAX`] active grassroots pairings.
    MemberTooMany { member: i64, grassroots: usize },
    /// Not exactly [`LEADER_TOWNSHIPS`] active township coverages.
    LeaderTownships { leader: i64, townships: usize },
    /// Fewer than [`LEADER_VISITS_PER_MONTH`] station visits in the month.
    LeaderVisits {
        leader: i64,
        year: i32,
        month: u32,
        visits: usize,
    },
}

impl Gap {
    /// The deputy the gap is about (the member or leader).
    pub fn deputy(&self) -> i64 {
        match *self {
            Gap::MemberTooFew { member, .. } | Gap::MemberTooMany { member, .. } => member,
            Gap::LeaderTownships { leader, .. } | Gap::LeaderVisits { leader, .. } => leader,
        }
    }

    /// Grassroots deputies paired, townships covered or station visits, as the kind says.
    pub fn actual(&self) -> usize {
        match *self {
            Gap::MemberTooFew { grassroots, .. } | Gap::MemberTooMany { grassroots, .. } => {
                grassroots
            }
            Gap::LeaderTownships { townships, .. } => townships,
            Gap::LeaderVisits { visits, .. } => visits,
        }
    }

    /// The rule, e.g. "5-8", "2", ">= 2".
    pub fn expected(&self) -> String {
        match self {
            Gap::MemberTooFew { .. } | Gap::MemberTooMany { .. } => {
                format!("{MEMBER_MIN}-{MEMBER_MAX}")
            }
            Gap::LeaderTownships { .. } => LEADER_TOWNSHIPS.to_string(),
            Gap::LeaderVisits { .. } => format!(">= {LEADER_VISITS_PER_MONTH}"),
        }
    }

    /// The gap in the committee's words.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Gap::MemberTooFew { .. } => "常委会组成人员联系基层代表不足",
            Gap::MemberTooMany { .. } => "常委会组成人员联系基层代表过多",
            Gap::LeaderTownships { .. } => "常委会领导包联乡镇数不符",
            Gap::LeaderVisits { .. } => "常委会领导当月进站次数不足",
        }
    }
}

/// What [`coverage_gaps`] looks at; one row per standing-committee member / leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoverageInput {
    /// (member deputy id, active `ScMemberGrassroots` pairings).
    pub members: Vec<(i64, usize)>,
    /// (leader deputy id, active township coverages, station visits in the month).
    pub leaders: Vec<(i64, usize, usize)>,
    pub year: i32,
    pub month: u32,
}

/// The unmet coverage rules: members outside 5..=8 grassroots deputies, leaders not
/// covering exactly 2 townships, leaders with fewer than 2 visits in the month. Members
/// first, then leaders, each in input order (a leader's township gap before its visit gap).
pub fn coverage_gaps(input: &CoverageInput) -> Vec<Gap> {
    let mut gaps = Vec::new();
    for &(member, grassroots) in &input.members {
        if grassroots < MEMBER_MIN {
            gaps.push(Gap::MemberTooFew { member, grassroots });
        } else if grassroots > MEMBER_MAX {
            gaps.push(Gap::MemberTooMany { member, grassroots });
        }
    }
    for &(leader, townships, visits) in &input.leaders {
        if townships != LEADER_TOWNSHIPS {
            gaps.push(Gap::LeaderTownships { leader, townships });
        }
        if visits < LEADER_VISITS_PER_MONTH {
            gaps.push(Gap::LeaderVisits {
                leader,
                year: input.year,
                month: input.month,
                visits,
            });
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An active, grassroots, first-term township deputy with no committee role.
    fn base(id: i64) -> DeputyTraits {
        DeputyTraits {
            id,
            level: CongressLevel::Township,
            is_leading_cadre: false,
            term_status: TermStatus::FirstTerm,
            is_sc_member: false,
            is_sc_leader: false,
            active: true,
        }
    }

    fn leading_cadre(id: i64) -> DeputyTraits {
        DeputyTraits {
            is_leading_cadre: true,
            ..base(id)
        }
    }

    fn reelected(id: i64) -> DeputyTraits {
        DeputyTraits {
            term_status: TermStatus::ReElected,
            ..base(id)
        }
    }

    fn at_level(id: i64, level: CongressLevel) -> DeputyTraits {
        DeputyTraits { level, ..base(id) }
    }

    fn sc_member(id: i64) -> DeputyTraits {
        DeputyTraits {
            is_sc_member: true,
            level: CongressLevel::County,
            ..base(id)
        }
    }

    fn sc_leader(id: i64) -> DeputyTraits {
        DeputyTraits {
            is_sc_leader: true,
            is_leading_cadre: true,
            level: CongressLevel::County,
            ..base(id)
        }
    }

    fn field_of(result: AppResult<()>) -> String {
        match result {
            Err(AppError::BadUserInput {
                field: Some(field), ..
            }) => field,
            other => panic!("expected BAD_USER_INPUT with a field, got {other:?}"),
        }
    }

    fn message_of(result: AppResult<()>) -> String {
        match result {
            Err(e) => e.public_message().to_owned(),
            Ok(()) => panic!("expected an error"),
        }
    }

    fn pair(kind: PairingKind, senior: &DeputyTraits, junior: &DeputyTraits) -> AppResult<()> {
        check_fit(kind, senior, Some(junior), None)
    }

    #[test]
    fn leader_grassroots_fit_and_misfit() {
        let kind = PairingKind::LeaderGrassroots;
        assert_eq!(pair(kind, &leading_cadre(1), &base(2)), Ok(()));
        // Senior not a leading cadre.
        let r = pair(kind, &base(1), &base(2));
        assert!(message_of(r.clone()).contains("leading cadre"));
        assert_eq!(field_of(r), SENIOR);
        // Junior a leading cadre.
        let r = pair(kind, &leading_cadre(1), &leading_cadre(2));
        assert!(message_of(r.clone()).contains("grassroots"));
        assert_eq!(field_of(r), JUNIOR);
    }

    #[test]
    fn reelected_first_term_fit_and_misfit() {
        let kind = PairingKind::ReelectedFirstTerm;
        assert_eq!(pair(kind, &reelected(1), &base(2)), Ok(()));
        let r = pair(kind, &base(1), &base(2));
        assert!(message_of(r.clone()).contains("re-elected"));
        assert_eq!(field_of(r), SENIOR);
        let r = pair(kind, &reelected(1), &reelected(2));
        assert!(message_of(r.clone()).contains("first term"));
        assert_eq!(field_of(r), JUNIOR);
    }

    #[test]
    fn upper_lower_fit_and_misfit_per_level() {
        use CongressLevel::*;
        let kind = PairingKind::UpperLower;
        for senior in [Provincial, Municipal] {
            for junior in [County, Township] {
                assert_eq!(
                    pair(kind, &at_level(1, senior), &at_level(2, junior)),
                    Ok(()),
                    "{senior:?} -> {junior:?}"
                );
            }
        }
        for senior in [National, County, Township] {
            let r = pair(kind, &at_level(1, senior), &at_level(2, County));
            assert!(message_of(r.clone()).contains("provincial or municipal"));
            assert_eq!(field_of(r), SENIOR, "{senior:?}");
        }
        for junior in [National, Provincial, Municipal] {
            let r = pair(kind, &at_level(1, Provincial), &at_level(2, junior));
            assert!(message_of(r.clone()).contains("county or township"));
            assert_eq!(field_of(r), JUNIOR, "{junior:?}");
        }
    }

    #[test]
    fn sc_member_grassroots_fit_and_misfit() {
        let kind = PairingKind::ScMemberGrassroots;
        assert_eq!(pair(kind, &sc_member(1), &base(2)), Ok(()));
        // A leader flag alone does not make a member.
        let r = pair(kind, &sc_leader(1), &base(2));
        assert!(message_of(r.clone()).contains("standing-committee member"));
        assert_eq!(field_of(r), SENIOR);
        let r = pair(kind, &base(1), &base(2));
        assert_eq!(field_of(r), SENIOR);
        let r = pair(kind, &sc_member(1), &leading_cadre(2));
        assert!(message_of(r.clone()).contains("grassroots"));
        assert_eq!(field_of(r), JUNIOR);
    }

    #[test]
    fn sc_leader_township_fit_and_misfit() {
        let kind = PairingKind::ScLeaderTownship;
        assert_eq!(check_fit(kind, &sc_leader(1), None, Some(7)), Ok(()));
        let r = check_fit(kind, &sc_member(1), None, Some(7));
        assert!(message_of(r.clone()).contains("standing-committee leader"));
        assert_eq!(field_of(r), SENIOR);
        let r = check_fit(kind, &base(1), None, Some(7));
        assert_eq!(field_of(r), SENIOR);
    }

    #[test]
    fn sc_leader_township_presence() {
        let kind = PairingKind::ScLeaderTownship;
        let leader = sc_leader(1);
        // Neither: the township is missing.
        assert_eq!(field_of(check_fit(kind, &leader, None, None)), TOWNSHIP);
        // Both: the junior is extra.
        assert_eq!(
            field_of(check_fit(kind, &leader, Some(&base(2)), Some(7))),
            JUNIOR
        );
        // A deputy instead of a township: the kind is wrong.
        assert_eq!(
            field_of(check_fit(kind, &leader, Some(&base(2)), None)),
            KIND
        );
    }

    #[test]
    fn deputy_kinds_presence() {
        use PairingKind::*;
        for kind in [
            LeaderGrassroots,
            ReelectedFirstTerm,
            UpperLower,
            ScMemberGrassroots,
        ] {
            // Everything the senior could need.
            let senior = DeputyTraits {
                level: CongressLevel::Provincial,
                is_leading_cadre: true,
                term_status: TermStatus::ReElected,
                is_sc_member: true,
                is_sc_leader: true,
                ..base(1)
            };
            let junior = base(2);
            assert_eq!(
                check_fit(kind, &senior, Some(&junior), None),
                Ok(()),
                "{kind:?}"
            );
            assert_eq!(
                field_of(check_fit(kind, &senior, None, None)),
                JUNIOR,
                "{kind:?}"
            );
            assert_eq!(
                field_of(check_fit(kind, &senior, Some(&junior), Some(7))),
                TOWNSHIP,
                "{kind:?}"
            );
            assert_eq!(
                field_of(check_fit(kind, &senior, None, Some(7))),
                KIND,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn self_pairing_is_refused() {
        use PairingKind::*;
        // A deputy that would fit both sides of every deputy kind but for being one person.
        let both = DeputyTraits {
            level: CongressLevel::Provincial,
            is_leading_cadre: true,
            term_status: TermStatus::ReElected,
            is_sc_member: true,
            ..base(5)
        };
        for kind in [
            LeaderGrassroots,
            ReelectedFirstTerm,
            UpperLower,
            ScMemberGrassroots,
        ] {
            let r = check_fit(kind, &both, Some(&both), None);
            assert!(message_of(r.clone()).contains("themselves"), "{kind:?}");
            assert_eq!(field_of(r), JUNIOR, "{kind:?}");
        }
        // Same id, otherwise fitting attributes.
        let r = pair(LeaderGrassroots, &leading_cadre(3), &base(3));
        assert_eq!(field_of(r), JUNIOR);
    }

    #[test]
    fn inactive_deputies_are_refused() {
        let kind = PairingKind::LeaderGrassroots;
        let senior = DeputyTraits {
            active: false,
            ..leading_cadre(1)
        };
        let r = pair(kind, &senior, &base(2));
        assert!(message_of(r.clone()).contains("inactive"));
        assert_eq!(field_of(r), SENIOR);
        let junior = DeputyTraits {
            active: false,
            ..base(2)
        };
        let r = pair(kind, &leading_cadre(1), &junior);
        assert!(message_of(r.clone()).contains("inactive"));
        assert_eq!(field_of(r), JUNIOR);

        let leader = DeputyTraits {
            active: false,
            ..sc_leader(1)
        };
        let r = check_fit(PairingKind::ScLeaderTownship, &leader, None, Some(7));
        assert!(message_of(r.clone()).contains("inactive"));
        assert_eq!(field_of(r), SENIOR);
    }

    #[test]
    fn errors_are_bad_user_input() {
        let err = pair(PairingKind::LeaderGrassroots, &base(1), &base(2)).expect_err("misfit");
        assert_eq!(err.code(), "BAD_USER_INPUT");
    }

    fn members(rows: &[(i64, usize)]) -> CoverageInput {
        CoverageInput {
            members: rows.to_vec(),
            leaders: Vec::new(),
            year: 2025,
            month: 12,
        }
    }

    fn leaders(rows: &[(i64, usize, usize)]) -> CoverageInput {
        CoverageInput {
            members: Vec::new(),
            leaders: rows.to_vec(),
            year: 2025,
            month: 12,
        }
    }

    #[test]
    fn member_boundaries() {
        assert_eq!(
            coverage_gaps(&members(&[(1, 4)])),
            vec![Gap::MemberTooFew {
                member: 1,
                grassroots: 4
            }]
        );
        assert_eq!(
            coverage_gaps(&members(&[(1, 0)])),
            vec![Gap::MemberTooFew {
                member: 1,
                grassroots: 0
            }]
        );
        assert!(coverage_gaps(&members(&[(1, 5)])).is_empty());
        assert!(coverage_gaps(&members(&[(1, 8)])).is_empty());
        assert_eq!(
            coverage_gaps(&members(&[(1, 9)])),
            vec![Gap::MemberTooMany {
                member: 1,
                grassroots: 9
            }]
        );
    }

    #[test]
    fn leader_township_boundaries() {
        assert_eq!(
            coverage_gaps(&leaders(&[(1, 1, 2)])),
            vec![Gap::LeaderTownships {
                leader: 1,
                townships: 1
            }]
        );
        assert!(coverage_gaps(&leaders(&[(1, 2, 2)])).is_empty());
        assert_eq!(
            coverage_gaps(&leaders(&[(1, 3, 2)])),
            vec![Gap::LeaderTownships {
                leader: 1,
                townships: 3
            }]
        );
    }

    #[test]
    fn leader_visit_boundaries() {
        assert_eq!(
            coverage_gaps(&leaders(&[(1, 2, 1)])),
            vec![Gap::LeaderVisits {
                leader: 1,
                year: 2025,
                month: 12,
                visits: 1
            }]
        );
        assert!(coverage_gaps(&leaders(&[(1, 2, 2)])).is_empty());
        assert!(coverage_gaps(&leaders(&[(1, 2, 3)])).is_empty());
        // Both gaps for one leader, townships first.
        assert_eq!(
            coverage_gaps(&leaders(&[(1, 0, 0)])),
            vec![
                Gap::LeaderTownships {
                    leader: 1,
                    townships: 0
                },
                Gap::LeaderVisits {
                    leader: 1,
                    year: 2025,
                    month: 12,
                    visits: 0
                }
            ]
        );
    }

    #[test]
    fn gaps_in_input_order_members_first() {
        let input = CoverageInput {
            members: vec![(10, 9), (11, 6), (12, 4)],
            leaders: vec![(20, 2, 2), (21, 1, 1)],
            year: 2024,
            month: 2,
        };
        assert_eq!(
            coverage_gaps(&input),
            vec![
                Gap::MemberTooMany {
                    member: 10,
                    grassroots: 9
                },
                Gap::MemberTooFew {
                    member: 12,
                    grassroots: 4
                },
                Gap::LeaderTownships {
                    leader: 21,
                    townships: 1
                },
                Gap::LeaderVisits {
                    leader: 21,
                    year: 2024,
                    month: 2,
                    visits: 1
                },
            ]
        );
        let empty = CoverageInput {
            members: Vec::new(),
            leaders: Vec::new(),
            year: 2025,
            month: 1,
        };
        assert!(coverage_gaps(&empty).is_empty());
    }
}
