//! The 2025 opinion items and suggestions behind the report's figures: 1,041 items
//! through every channel, 97.2% completed (1,012), 52 urgent problems solved (rural
//! roads, jobs for the disabled), 滨河社区's 35 disputes settled, 12 hazards found and
//! 16 governance problems solved; 286 suggestions, 192 adopted. Every item carries the
//! history of the steps it went through.
use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::*;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use super::data;
use super::duty::is_exemplary;
use super::rng::SeedRng;
use super::{all_in_order, insert_all, HistoryCopy};
use crate::domain::calendar::china;
use crate::domain::tracking;
use crate::error::AppResult;

const SEED: u64 = 0x2025_1041_0286;
pub const ITEMS: usize = 1041;
pub const COMPLETED: usize = 1012;
pub const URGENT_COMPLETED: usize = 52;
pub const BINHE_DISPUTES: usize = 35;
pub const BINHE_HAZARDS: usize = 12;
pub const BINHE_GOVERNANCE: usize = 16;
pub const SUGGESTIONS: usize = 286;
pub const SUGGESTIONS_ADOPTED: usize = 192;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PetitionReport {
    pub items: usize,
    pub completed: usize,
    pub suggestions: usize,
}

/// The county department that handles a category.
fn department_for(category: &str) -> &'static str {
    match category {
        "roads_transport" => "jiaotong",
        "employment" => "renshe",
        "social_security" => "minzheng",
        "environment" => "shengtai",
        "disputes" => "sifa",
        "safety_hazards" => "yingji",
        "healthcare" => "weijian",
        "education" => "jiaoke",
        "agriculture" => "nongye",
        "housing" => "zhujian",
        "governance" => "chengguan",
        _ => "xinfang",
    }
}

/// A moment in China time on a day of `year`.
fn at_in(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    china()
        .with_ymd_and_hms(
            year,
            month.clamp(1, 12),
            day.clamp(1, 28),
            hour.min(23),
            0,
            0,
        )
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

struct Plan {
    channel: Channel,
    category: &'static str,
    deputy_id: Option<i64>,
    station_id: i64,
    collected: DateTime<Utc>,
    urgency: Urgency,
}

/// A copy's year of items (with their histories, department parts and ratings) and
/// suggestions; the base copy is the demo's 2025. Every copy has the same counts
/// (items, completed, urgent, 滨河's, suggestions, adopted); what the generator draws
/// (places, categories, times, ratings) differs from copy to copy.
pub async fn seed<C: ConnectionTrait>(db: &C, copy: &HistoryCopy) -> AppResult<PetitionReport> {
    let mut rng = SeedRng::new(SEED ^ copy.salt());
    let at = |month: u32, day: u32, hour: u32| at_in(copy.year, month, day, hour);
    let ids = copy.ids;
    let stations = all_in_order::<station::Entity, _>(db, station::Column::Id).await?;
    let assignments =
        all_in_order::<deputy_station::Entity, _>(db, deputy_station::Column::Id).await?;
    let departments: HashMap<String, i64> = department::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.code, d.id))
        .collect();
    let categories: HashMap<String, i64> = category::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.code, c.id))
        .collect();
    let township_of: HashMap<i64, i64> = stations.iter().map(|s| (s.id, s.township_id)).collect();
    let binhe = stations
        .iter()
        .find(|s| s.code == "binhe")
        .map(|s| s.id)
        .unwrap_or(1);
    let binhe_residents: Vec<i64> = assignments
        .iter()
        .filter(|a| a.station_id == binhe)
        .map(|a| a.deputy_id)
        .collect();
    let templates_for = |category: &str| -> Vec<(&'static str, &'static str)> {
        data::PETITION_TEMPLATES
            .iter()
            .filter(|t| t.0 == category)
            .map(|t| (t.1, t.2))
            .collect()
    };
    let category_codes: Vec<&'static str> = data::CATEGORIES.iter().map(|c| c.0).collect();

    // ------------------------------------------------------------ what arrives
    let mut plans: Vec<Plan> = Vec::with_capacity(ITEMS);
    // 滨河's three report categories are kept for its own items below.
    let others: Vec<&str> = category_codes
        .iter()
        .copied()
        .filter(|c| !matches!(*c, "disputes" | "safety_hazards" | "governance"))
        .collect();
    // Exemplary resident deputies report one item every month.
    for a in assignments.iter().filter(|a| is_exemplary(a.deputy_id)) {
        for month in 1..=12 {
            let channel = if month % 2 == 0 {
                Channel::DeputyVisit
            } else {
                Channel::StationReception
            };
            let category = others[rng.below(others.len())];
            plans.push(Plan {
                channel,
                category,
                deputy_id: Some(a.deputy_id),
                station_id: a.station_id,
                collected: at(month, 10, 10),
                urgency: Urgency::Normal,
            });
        }
    }
    // 滨河社区: 35 disputes, 12 hazards, 16 governance problems.
    for (category, count) in [
        ("disputes", BINHE_DISPUTES),
        ("safety_hazards", BINHE_HAZARDS),
        ("governance", BINHE_GOVERNANCE),
    ] {
        for k in 0..count {
            let deputy = binhe_residents
                .get(k % binhe_residents.len().max(1))
                .copied();
            let channel = if k % 3 == 0 {
                Channel::StationReception
            } else {
                Channel::App
            };
            plans.push(Plan {
                channel,
                category,
                deputy_id: deputy,
                station_id: binhe,
                collected: at(1 + (k as u32 % 11), 3 + (k as u32 % 20), 15),
                urgency: Urgency::Normal,
            });
        }
    }
    // The rest from every channel, over the year and the county (not 滨河's categories
    // above, so that its figures stay exact).
    let channels = [
        Channel::App,
        Channel::QrCode,
        Channel::Wechat,
        Channel::StationReception,
        Channel::DeputyVisit,
        Channel::App,
    ];
    while plans.len() < ITEMS {
        let a = &assignments[rng.below(assignments.len())];
        let station_id = if a.station_id == binhe {
            stations[rng.below(stations.len())].id
        } else {
            a.station_id
        };
        let station_id = if station_id == binhe {
            stations[0].id
        } else {
            station_id
        };
        let channel = channels[rng.below(channels.len())];
        let addressed = matches!(
            channel,
            Channel::QrCode | Channel::DeputyVisit | Channel::StationReception
        ) || rng.chance(30);
        plans.push(Plan {
            channel,
            category: others[rng.below(others.len())],
            // Deputy-collected items of non-exemplary deputies are rarer: keep them from
            // making everyone compliant. QR codes always name a deputy.
            deputy_id: if addressed && !is_exemplary(a.deputy_id) {
                Some(a.deputy_id)
            } else {
                None
            },
            station_id,
            collected: at(
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
                8 + rng.below(10) as u32,
            ),
            urgency: Urgency::Normal,
        });
    }
    // Non-addressed deputy channels make no sense: such items become app messages.
    for p in plans.iter_mut() {
        if p.deputy_id.is_none() && matches!(p.channel, Channel::QrCode | Channel::DeputyVisit) {
            p.channel = Channel::App;
        }
    }
    // 52 urgent problems (rural roads, jobs for the disabled), all among the completed.
    let mut urgent_marked = 0;
    for (i, p) in plans.iter_mut().enumerate().skip(500) {
        if urgent_marked == URGENT_COMPLETED {
            break;
        }
        if i % 7 == 0 {
            p.category = if urgent_marked % 2 == 0 {
                "roads_transport"
            } else {
                "employment"
            };
            p.urgency = Urgency::Urgent;
            urgent_marked += 1;
        }
    }

    // ------------------------------------------------------------ how far each got
    // The last 29 of the "rest" stay open (or were declined/merged); the others are done.
    let open_from = ITEMS - (ITEMS - COMPLETED);
    let mut items = Vec::with_capacity(ITEMS);
    let mut events = Vec::new();
    let mut parts = Vec::new();
    let mut ratings = Vec::new();
    let event = |events: &mut Vec<petition_event::ActiveModel>,
                 pid: i64,
                 action: &str,
                 from: Option<&str>,
                 to: &str,
                 role: &str,
                 dept: Option<i64>,
                 note: Option<String>,
                 when: DateTime<Utc>| {
        events.push(petition_event::ActiveModel {
            id: Set(ids.petition_event + events.len() as i64 + 1),
            petition_id: Set(pid),
            action: Set(action.into()),
            from_state: Set(from.map(Into::into)),
            to_state: Set(to.into()),
            actor_account_id: Set(None),
            actor_role: Set(Some(role.into())),
            department_id: Set(dept),
            note: Set(note),
            created_at: Set(when),
        });
    };
    let year_end = at(12, 28, 18);
    for (i, plan) in plans.iter().enumerate() {
        let id = ids.petition + i as i64 + 1;
        let templates = templates_for(plan.category);
        let (title, content) = templates
            .get(i % templates.len().max(1))
            .copied()
            .unwrap_or(("群众反映问题", "群众反映的具体问题,请相关部门核实处理。"));
        let category_id = categories.get(plan.category).copied();
        let lead = departments.get(department_for(plan.category)).copied();
        let township_id = township_of.get(&plan.station_id).copied();
        let collected = plan.collected;
        let registered = collected + Duration::hours(3 + rng.below(20) as i64);
        let on_spot = i % 4 == 0 && plan.urgency == Urgency::Normal;
        let forwarded = registered + Duration::hours(2);
        let accepted = forwarded + Duration::hours(4 + rng.below(30) as i64);
        let days = if plan.urgency == Urgency::Urgent {
            7
        } else {
            15
        };
        let deadline = accepted + Duration::days(days);
        // A few are late (on-time rate below 100%).
        let late = rng.chance(4);
        let resolved = if on_spot {
            registered + Duration::hours(1)
        } else if late {
            deadline + Duration::days(1 + rng.below(3) as i64)
        } else {
            accepted + Duration::hours(24 + rng.below(24 * (days as usize - 2)) as i64)
        };
        let resolved = resolved.min(year_end);
        let completed = i < open_from;
        // Completed items from late December still await their rating.
        let rated = completed && resolved < at(12, 15, 0);
        let state = if !completed {
            match i - open_from {
                0..=9 => PetitionState::Accepted,
                10..=15 => PetitionState::Forwarded,
                16..=20 => PetitionState::Registered,
                21..=24 => PetitionState::Submitted,
                25 | 26 => PetitionState::Declined,
                _ => PetitionState::Merged,
            }
        } else if rated {
            PetitionState::Closed
        } else {
            PetitionState::Resolved
        };
        let satisfaction = rated.then(|| {
            if rng.chance(86) {
                Satisfaction::Satisfied
            } else {
                Satisfaction::BasicallySatisfied
            }
        });
        // Four of the open, accepted items are past their deadline.
        let overdue = state == PetitionState::Accepted && i - open_from < 4;
        let anonymous = plan.deputy_id.is_none()
            && matches!(plan.channel, Channel::App | Channel::QrCode)
            && rng.chance(50);
        let surname = data::SURNAMES[rng.below(data::SURNAMES.len())];
        let given = data::GIVEN_NAMES[rng.below(data::GIVEN_NAMES.len())];
        let phone = format!(
            "1{}{:09}",
            [3, 5, 8, 9][rng.below(4)],
            rng.next_u64() % 1_000_000_000
        );
        let reaches = |s: PetitionState| -> bool {
            use PetitionState::*;
            let order = |s| match s {
                Submitted => 0,
                Registered => 1,
                Forwarded => 2,
                Accepted => 3,
                Resolved => 4,
                Closed => 5,
                Declined | Merged => 1,
            };
            order(state) >= order(s) && !matches!(state, Declined | Merged)
        };
        let uses_department = !on_spot && reaches(PetitionState::Forwarded);
        let merged_into = (state == PetitionState::Merged).then_some(id - 100);
        let is_resolved = completed;
        items.push(petition::ActiveModel {
            id: Set(id),
            tracking_code: Set(if copy.index == 0 {
                tracking::tracking_code_from(|| rng.next_u64())
            } else {
                super::tracking_code_of(id)
            }),
            follow_secret_hash: Set(None),
            title: Set(title.into()),
            content: Set(content.into()),
            channel: Set(plan.channel),
            state: Set(state),
            submitter_account_id: Set(None),
            submitter_name: Set((!anonymous).then(|| format!("{surname}{given}"))),
            submitter_phone: Set(Some(phone)),
            sms_consent: Set(false),
            deputy_id: Set(plan.deputy_id),
            station_id: Set(Some(plan.station_id)),
            township_id: Set(township_id),
            grid_id: Set(None),
            category_id: Set(if state == PetitionState::Submitted {
                None
            } else {
                category_id
            }),
            urgency: Set(if state == PetitionState::Submitted {
                None
            } else {
                Some(plan.urgency)
            }),
            handling_level: Set(match (state, on_spot) {
                (PetitionState::Submitted, _) => None,
                (_, true) => Some(HandlingLevel::Station),
                _ => Some(HandlingLevel::County),
            }),
            lead_department_id: Set(if uses_department { lead } else { None }),
            merged_into_id: Set(merged_into),
            attachments: Set("[]".into()),
            deadline: Set((uses_department && reaches(PetitionState::Accepted))
                .then_some(if overdue { at(12, 1, 9) } else { deadline })),
            is_overdue: Set(overdue),
            escalation_level: Set(0),
            urge_count: Set(0),
            round: Set(1),
            result: Set(is_resolved.then(|| "经核实已处理完毕,并向群众反馈办理结果。".to_owned())),
            decline_reason: Set((state == PetitionState::Declined)
                .then(|| "不属于本平台受理范围,已告知群众通过法定途径解决。".to_owned())),
            satisfaction: Set(satisfaction),
            version: Set(1),
            collected_at: Set(collected),
            registered_at: Set(reaches(PetitionState::Registered).then_some(registered)),
            accepted_at: Set(
                (uses_department && reaches(PetitionState::Accepted)).then_some(accepted)
            ),
            resolved_at: Set(is_resolved.then_some(resolved)),
            closed_at: Set(match state {
                PetitionState::Closed => Some(resolved + Duration::days(2)),
                PetitionState::Declined | PetitionState::Merged => Some(registered),
                _ => None,
            }),
            created_at: Set(collected),
            updated_at: Set(resolved),
            // Demo items carry no location (maps count only what is submitted).
            latitude_e7: Set(None),
            longitude_e7: Set(None),
            location_accuracy_m: Set(None),
            location_address: Set(None),
        });
        // History.
        let role = if plan.deputy_id.is_some()
            && matches!(
                plan.channel,
                Channel::DeputyVisit | Channel::StationReception
            ) {
            "deputy"
        } else {
            "submitter"
        };
        event(
            &mut events,
            id,
            "submit",
            None,
            "submitted",
            role,
            None,
            None,
            collected,
        );
        match state {
            PetitionState::Declined => {
                event(
                    &mut events,
                    id,
                    "decline",
                    Some("submitted"),
                    "declined",
                    "station_staff",
                    None,
                    Some("不属于受理范围".into()),
                    registered,
                );
                continue;
            }
            PetitionState::Merged => {
                event(
                    &mut events,
                    id,
                    "merge",
                    Some("submitted"),
                    "merged",
                    "station_staff",
                    None,
                    Some("与已受理事项重复".into()),
                    registered,
                );
                continue;
            }
            PetitionState::Submitted => continue,
            _ => {}
        }
        event(
            &mut events,
            id,
            "register",
            Some("submitted"),
            "registered",
            "station_staff",
            None,
            None,
            registered,
        );
        if on_spot && completed {
            event(
                &mut events,
                id,
                "resolve_on_spot",
                Some("registered"),
                "resolved",
                "station_staff",
                None,
                Some("代表现场协调解决".into()),
                resolved,
            );
        } else if uses_department {
            event(
                &mut events,
                id,
                "forward",
                Some("registered"),
                "forwarded",
                "station_staff",
                lead,
                None,
                forwarded,
            );
            if let Some(lead) = lead {
                parts.push(petition_department::ActiveModel {
                    id: Set(ids.petition_department + parts.len() as i64 + 1),
                    petition_id: Set(id),
                    department_id: Set(lead),
                    role: Set(DepartmentRole::Lead),
                    status: Set(if completed {
                        ForwardStatus::Reported
                    } else if reaches(PetitionState::Accepted) {
                        ForwardStatus::Accepted
                    } else {
                        ForwardStatus::Forwarded
                    }),
                    report: Set(completed.then(|| "已办结".to_owned())),
                    return_reason: Set(None),
                    forwarded_at: Set(forwarded),
                    accepted_at: Set(reaches(PetitionState::Accepted).then_some(accepted)),
                    reported_at: Set(completed.then_some(resolved)),
                });
            }
            if reaches(PetitionState::Accepted) {
                event(
                    &mut events,
                    id,
                    "accept",
                    Some("forwarded"),
                    "accepted",
                    "lead_handler",
                    lead,
                    None,
                    accepted,
                );
            }
            if overdue {
                event(
                    &mut events,
                    id,
                    "mark_overdue",
                    Some("accepted"),
                    "accepted",
                    "system",
                    lead,
                    None,
                    at(12, 2, 0),
                );
            }
            if completed {
                event(
                    &mut events,
                    id,
                    "complete",
                    Some("accepted"),
                    "resolved",
                    "lead_handler",
                    lead,
                    None,
                    resolved,
                );
            }
        }
        if let Some(s) = satisfaction {
            let action = if s == Satisfaction::Satisfied {
                "rate_satisfied"
            } else {
                "rate_basically_satisfied"
            };
            event(
                &mut events,
                id,
                action,
                Some("resolved"),
                "closed",
                "submitter",
                None,
                None,
                resolved + Duration::days(2),
            );
            ratings.push(petition_rating::ActiveModel {
                id: Set(ids.petition_rating + ratings.len() as i64 + 1),
                petition_id: Set(id),
                round: Set(1),
                rating: Set(s),
                comment: Set(None),
                created_at: Set(resolved + Duration::days(2)),
            });
        }
    }
    let completed = items
        .iter()
        .filter(|i| {
            matches!(
                &i.state,
                sea_orm::ActiveValue::Set(PetitionState::Resolved | PetitionState::Closed)
            )
        })
        .count();
    insert_all(db, items).await?;
    insert_all(db, events).await?;
    insert_all(db, parts).await?;
    insert_all(db, ratings).await?;

    // ------------------------------------------------------------ suggestions
    let residents: Vec<&deputy_station::Model> = assignments.iter().collect();
    let county_departments: Vec<i64> = departments
        .iter()
        .filter(|(code, _)| !code.ends_with("_gov"))
        .map(|(_, id)| *id)
        .collect();
    let mut county_departments = county_departments;
    county_departments.sort_unstable();
    let mut suggestions = Vec::with_capacity(SUGGESTIONS);
    for k in 0..SUGGESTIONS {
        let a = residents[(k * 13 + 5) % residents.len()];
        let adoption = if k < SUGGESTIONS_ADOPTED {
            if k % 5 == 0 {
                Adoption::PartlyAdopted
            } else {
                Adoption::Adopted
            }
        } else {
            Adoption::NotAdopted
        };
        let submitted = at(1 + (k as u32 % 12), 1 + (k as u32 * 7 % 27), 9);
        let topic = data::PETITION_TEMPLATES[k % data::PETITION_TEMPLATES.len()].1;
        suggestions.push(suggestion::ActiveModel {
            id: Set(ids.suggestion + k as i64 + 1),
            deputy_id: Set(a.deputy_id),
            department_id: Set(Some(county_departments[k % county_departments.len()])),
            station_id: Set(Some(a.station_id)),
            title: Set(format!("关于{topic}的建议")),
            content: Set(format!(
                "针对{topic}问题,建议相关部门加强调研、统筹资金、限期解决,并建立长效机制。"
            )),
            status: Set(SuggestionStatus::Answered),
            adoption: Set(Some(adoption)),
            answer: Set(Some(
                match adoption {
                    Adoption::Adopted => "建议已采纳,纳入年度工作计划推进落实。",
                    Adoption::PartlyAdopted => "建议部分采纳,具备条件的事项已安排实施。",
                    Adoption::NotAdopted => "暂不具备实施条件,已向代表说明情况。",
                }
                .to_owned(),
            )),
            submitted_at: Set(submitted),
            answered_at: Set(Some(submitted + Duration::days(20))),
        });
    }
    insert_all(db, suggestions).await?;
    Ok(PetitionReport {
        items: ITEMS,
        completed,
        suggestions: SUGGESTIONS,
    })
}
