//! A year (2025) of duty: pairings of every kind, activities (a realistic mix of kept
//! and missed "eight ones" items), joint inspections across townships, campaigns and
//! published showcase stories.
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use entity::*;
use sea_orm::{ConnectionTrait, Set};

use super::data;
use super::rng::SeedRng;
use super::{all_in_order, insert_all, HistoryCopy, IdBase};
use crate::error::AppResult;

const SEED: u64 = 0x2025_0000_d07f;
pub const YEAR: i32 = 2025;

/// Every sixth deputy (by id) who serves at a station is an exemplary one: every
/// "eight ones" activity logged, and (in the opinion-item seed) an item each month.
pub fn is_exemplary(deputy_id: i64) -> bool {
    deputy_id % 6 == 0
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DutyReport {
    pub pairings: usize,
    pub activities: usize,
    pub stories: usize,
}

fn date_in(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day.clamp(1, 28)).unwrap_or_default()
}

struct Builder {
    /// Where this copy's ids start.
    ids: IdBase,
    activities: Vec<activity::ActiveModel>,
    participants: Vec<activity_participant::ActiveModel>,
    stations: Vec<activity_station::ActiveModel>,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        kind: ActivityKind,
        title: String,
        on: NaiveDate,
        deputies: &[i64],
        stations: &[i64],
        campaign: Option<i64>,
        heard: i32,
    ) {
        let id = self.ids.activity + self.activities.len() as i64 + 1;
        self.activities.push(activity::ActiveModel {
            id: Set(id),
            kind: Set(kind),
            title: Set(title),
            occurred_on: Set(on),
            campaign_id: Set(campaign),
            is_joint: Set(stations.len() > 1),
            citizens_heard: Set(heard),
            notes: Set(None),
            recorded_by: Set(None),
            created_at: Set(Utc.from_utc_datetime(&on.and_hms_opt(12, 0, 0).unwrap_or_default())),
        });
        for d in deputies {
            self.participants.push(activity_participant::ActiveModel {
                id: Set(self.ids.activity_participant + self.participants.len() as i64 + 1),
                activity_id: Set(id),
                deputy_id: Set(*d),
            });
        }
        for s in stations {
            self.stations.push(activity_station::ActiveModel {
                id: Set(self.ids.activity_station + self.stations.len() as i64 + 1),
                activity_id: Set(id),
                station_id: Set(*s),
            });
        }
    }
}

/// The pairings (once), then the base copy's year of activities and stories.
pub async fn seed<C: ConnectionTrait>(db: &C) -> AppResult<DutyReport> {
    let pairings = pairings(db).await?;
    let mut report = history(db, &HistoryCopy::base()).await?;
    report.pairings = pairings;
    Ok(report)
}

/// The pairings of every kind (not repeated by copies: deputies pair once a term).
async fn pairings<C: ConnectionTrait>(db: &C) -> AppResult<usize> {
    let deputies = all_in_order::<deputy::Entity, _>(db, deputy::Column::Id).await?;
    let started = NaiveDate::from_ymd_opt(2022, 1, 10).unwrap_or_default();
    let now = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();

    // ---------------------------------------------------------------- pairings
    let mut pairings: Vec<pairing::ActiveModel> = Vec::new();
    let mut taken = std::collections::HashSet::new();
    let mut pair = |kind: PairingKind, senior: i64, junior: Option<i64>, township: Option<i64>| {
        if Some(senior) == junior || !taken.insert((kind, senior, junior, township)) {
            return;
        }
        pairings.push(pairing::ActiveModel {
            id: Set(pairings.len() as i64 + 1),
            kind: Set(kind),
            senior_deputy_id: Set(senior),
            junior_deputy_id: Set(junior),
            township_id: Set(township),
            started_on: Set(started),
            ended_on: Set(None),
            note: Set(None),
            created_at: Set(now),
        });
    };
    let grassroots: Vec<&deputy::Model> = deputies
        .iter()
        .filter(|d| {
            !d.is_leading_cadre
                && matches!(d.level, CongressLevel::County | CongressLevel::Township)
        })
        .collect();
    let members: Vec<&deputy::Model> = deputies
        .iter()
        .filter(|d| d.is_sc_member && !d.is_sc_leader)
        .collect();
    let leaders: Vec<&deputy::Model> = deputies.iter().filter(|d| d.is_sc_leader).collect();
    let mut next_grassroots = 0usize;
    for (i, member) in members.iter().enumerate() {
        // Most members keep 5-8 grassroots deputies; one has too few, one too many.
        let count = match i {
            0 => 4,
            1 => 9,
            _ => 5 + (i % 4),
        };
        for _ in 0..count {
            let junior = grassroots[next_grassroots % grassroots.len()];
            next_grassroots += 1;
            pair(
                PairingKind::ScMemberGrassroots,
                member.id,
                Some(junior.id),
                None,
            );
        }
    }
    let township_count = data::TOWNSHIPS.len() as i64;
    for (i, leader) in leaders.iter().enumerate() {
        // Two townships each, except the last leader, who covers only one.
        let covered = if i + 1 == leaders.len() { 1 } else { 2 };
        for k in 0..covered {
            pair(
                PairingKind::ScLeaderTownship,
                leader.id,
                None,
                Some(((i as i64 * 2 + k) % township_count) + 1),
            );
        }
    }
    let cadres: Vec<&deputy::Model> = deputies
        .iter()
        .filter(|d| d.is_leading_cadre && !d.is_sc_leader)
        .collect();
    for (i, cadre) in cadres.iter().enumerate().take(30) {
        pair(
            PairingKind::LeaderGrassroots,
            cadre.id,
            Some(grassroots[(i * 7 + 3) % grassroots.len()].id),
            None,
        );
    }
    let re_elected: Vec<&deputy::Model> = deputies
        .iter()
        .filter(|d| d.term_status == TermStatus::ReElected)
        .collect();
    let first_term: Vec<&deputy::Model> = deputies
        .iter()
        .filter(|d| d.term_status == TermStatus::FirstTerm)
        .collect();
    for (i, senior) in re_elected.iter().enumerate().take(40) {
        pair(
            PairingKind::ReelectedFirstTerm,
            senior.id,
            Some(first_term[(i * 5 + 1) % first_term.len()].id),
            None,
        );
    }
    let lower: Vec<&deputy::Model> = deputies
        .iter()
        .filter(|d| matches!(d.level, CongressLevel::County | CongressLevel::Township))
        .collect();
    for (i, upper) in deputies
        .iter()
        .filter(|d| {
            matches!(
                d.level,
                CongressLevel::Provincial | CongressLevel::Municipal
            )
        })
        .enumerate()
    {
        for k in 0..2 {
            pair(
                PairingKind::UpperLower,
                upper.id,
                Some(lower[(i * 11 + k * 5) % lower.len()].id),
                None,
            );
        }
    }
    let pairing_count = pairings.len();
    insert_all(db, pairings).await?;
    Ok(pairing_count)
}

/// A copy's year of activities (a realistic mix of kept and missed duties, joint
/// inspections) and showcase stories.
pub async fn history<C: ConnectionTrait>(db: &C, copy: &HistoryCopy) -> AppResult<DutyReport> {
    let mut rng = SeedRng::new(SEED ^ copy.salt());
    let year = copy.year;
    let date = |month: u32, day: u32| date_in(year, month, day);
    let deputies = all_in_order::<deputy::Entity, _>(db, deputy::Column::Id).await?;
    let assignments =
        all_in_order::<deputy_station::Entity, _>(db, deputy_station::Column::Id).await?;
    let stations = all_in_order::<station::Entity, _>(db, station::Column::Id).await?;
    let station_of = |deputy_id: i64| {
        assignments
            .iter()
            .find(|a| a.deputy_id == deputy_id)
            .map(|a| a.station_id)
    };
    let leaders: Vec<&deputy::Model> = deputies.iter().filter(|d| d.is_sc_leader).collect();
    let now = Utc
        .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();

    // ---------------------------------------------------------------- activities
    let campaign_households = Some(1);
    let mut b = Builder {
        ids: copy.ids,
        activities: Vec::new(),
        participants: Vec::new(),
        stations: Vec::new(),
    };
    for d in &deputies {
        let station = station_of(d.id);
        let at = station.map(|s| vec![s]).unwrap_or_default();
        // Exemplary resident deputies keep every duty; other residents most; the rest less.
        let sure = station.is_some() && is_exemplary(d.id);
        let diligence = if station.is_some() { 88 } else { 55 };
        for month in 1..=12u32 {
            if sure || rng.chance(diligence) {
                b.add(
                    ActivityKind::CitizenReception,
                    "进站接待选民群众".into(),
                    date(month, 5 + rng.below(10) as u32),
                    &[d.id],
                    &at,
                    None,
                    3 + rng.below(12) as i32,
                );
            }
            if sure || rng.chance(diligence - 5) {
                b.add(
                    ActivityKind::StationActivity,
                    "参加联络站主题活动".into(),
                    date(month, 15 + rng.below(5) as u32),
                    &[d.id],
                    &at,
                    None,
                    0,
                );
            }
            if sure || rng.chance(diligence - 10) {
                b.add(
                    ActivityKind::StudyTraining,
                    "代表履职学习培训".into(),
                    date(month, 20 + rng.below(5) as u32),
                    &[d.id],
                    &[],
                    None,
                    0,
                );
            }
            if station.is_some() && (sure || rng.chance(80)) {
                let campaign = (3..=11)
                    .contains(&month)
                    .then_some(campaign_households)
                    .flatten();
                b.add(
                    ActivityKind::HouseholdVisit,
                    "入户走访听取群众意见".into(),
                    date(month, 8 + rng.below(15) as u32),
                    &[d.id],
                    &at,
                    campaign,
                    1 + rng.below(4) as i32,
                );
            }
        }
        if sure {
            // A second hearing each month (resident deputies hear citizens twice).
            for month in 1..=12u32 {
                b.add(
                    ActivityKind::CitizenReception,
                    "联络站集中接待日".into(),
                    date(month, 25),
                    &[d.id],
                    &at,
                    None,
                    5,
                );
            }
        }
        if sure || rng.chance(diligence - 15) {
            b.add(
                ActivityKind::DiaryEntry,
                "民情日志".into(),
                date(6 + rng.below(6) as u32, 28),
                &[d.id],
                &[],
                None,
                0,
            );
        }
        if sure || rng.chance(diligence - 35) {
            b.add(
                ActivityKind::LivelihoodProject,
                "承办民生实事".into(),
                date(4 + rng.below(6) as u32, 12),
                &[d.id],
                &at,
                None,
                0,
            );
        }
        if sure || rng.chance(diligence - 20) {
            b.add(
                ActivityKind::DutyReport,
                "向选民述职交流".into(),
                date(12, 10 + rng.below(10) as u32),
                &[d.id],
                &at,
                None,
                0,
            );
        }
    }
    // Standing-committee leaders visit grassroots stations, usually twice a month;
    // the first leader skips a visit in a few months.
    for (i, leader) in leaders.iter().enumerate() {
        for month in 1..=12u32 {
            let visits = if i == 0 && month % 4 == 0 { 1 } else { 2 };
            for v in 0..visits {
                let station = stations[(i * 13 + month as usize * 3 + v * 7) % stations.len()].id;
                b.add(
                    ActivityKind::Inspection,
                    "深入基层代表联络站指导工作".into(),
                    date(month, 6 + v as u32 * 12),
                    &[leader.id],
                    &[station],
                    None,
                    0,
                );
            }
        }
    }
    // Joint inspections and research across townships (联合视察、联动调研).
    let brand: Vec<&station::Model> = stations.iter().filter(|s| s.is_brand).collect();
    let topics = [
        "乡村振兴联合视察",
        "特色产业联动调研",
        "生态保护联合视察",
        "农村道路建设联动调研",
    ];
    for (k, topic) in topics.iter().enumerate() {
        for month in [4u32, 9] {
            let picks: Vec<i64> = (0..3)
                .map(|j| brand[(k * 2 + j + month as usize) % brand.len()].id)
                .collect();
            let people: Vec<i64> = assignments
                .iter()
                .filter(|a| picks.contains(&a.station_id))
                .take(6)
                .map(|a| a.deputy_id)
                .collect();
            let kind = if k % 2 == 0 {
                ActivityKind::Inspection
            } else {
                ActivityKind::Research
            };
            b.add(
                kind,
                (*topic).into(),
                date(month, 18),
                &people,
                &picks,
                Some(2),
                0,
            );
        }
    }
    let activity_count = b.activities.len();
    insert_all(db, b.activities).await?;
    insert_all(db, b.participants).await?;
    insert_all(db, b.stations).await?;

    // ---------------------------------------------------------------- stories
    // Exemplary resident deputies first: their story is their yearly "story" item.
    let mut resident_ids: Vec<i64> = assignments.iter().map(|a| a.deputy_id).collect();
    resident_ids.sort_by_key(|id| (!is_exemplary(*id), *id));
    let drafts: Vec<_> = data::STORY_TEMPLATES
        .iter()
        .cycle()
        .take(36)
        .enumerate()
        .map(|(i, (title, body))| {
            let deputy_id = resident_ids[i % resident_ids.len()];
            let station_id = station_of(deputy_id);
            let township_id = station_id
                .and_then(|s| stations.iter().find(|st| st.id == s))
                .map(|s| s.township_id);
            let at = Utc
                .with_ymd_and_hms(year, 1 + (i as u32 % 12), 3 + (i as u32 % 20), 9, 30, 0)
                .single()
                .unwrap_or(now);
            // The last few are still in the editors' hands.
            let status = match i {
                0..=31 => StoryStatus::Published,
                32 | 33 => StoryStatus::Submitted,
                _ => StoryStatus::Draft,
            };
            (
                copy.ids.story + i as i64 + 1,
                deputy_id,
                station_id,
                township_id,
                *title,
                *body,
                status,
                at,
            )
        })
        .collect();
    // Feed order (and outbox sequence) follows the publishing dates.
    let mut published: Vec<_> = drafts
        .iter()
        .filter(|d| d.6 == StoryStatus::Published)
        .collect();
    published.sort_by_key(|d| (d.7, d.0));
    let seq_of = |id: i64| {
        published
            .iter()
            .position(|d| d.0 == id)
            .map(|p| copy.ids.outbox_seq + p as i64 + 1)
    };
    let events: Vec<outbox_event::ActiveModel> = published
        .iter()
        .enumerate()
        .map(
            |(k, (id, deputy_id, station_id, township_id, title, _, _, at))| {
                outbox_event::ActiveModel {
                    seq: Set(copy.ids.outbox_seq + k as i64 + 1),
                    topic: Set("story".into()),
                    kind: Set("story_published".into()),
                    petition_id: Set(None),
                    station_id: Set(*station_id),
                    township_id: Set(*township_id),
                    department_id: Set(None),
                    account_id: Set(None),
                    payload: Set(
                        serde_json::json!({ "storyId": id, "deputyId": deputy_id, "title": title })
                            .to_string(),
                    ),
                    created_at: Set(*at),
                    published_at: Set(Some(*at)),
                }
            },
        )
        .collect();
    let stories: Vec<story::ActiveModel> = drafts
        .iter()
        .map(
            |(id, deputy_id, station_id, township_id, title, body, status, at)| {
                let is_published = *status == StoryStatus::Published;
                story::ActiveModel {
                    id: Set(*id),
                    deputy_id: Set(*deputy_id),
                    author_account_id: Set(None),
                    station_id: Set(*station_id),
                    township_id: Set(*township_id),
                    title: Set((*title).into()),
                    body: Set((*body).into()),
                    cover_url: Set(None),
                    status: Set(*status),
                    return_reason: Set(None),
                    published_at: Set(is_published.then_some(*at)),
                    published_seq: Set(if is_published { seq_of(*id) } else { None }),
                    created_at: Set(*at - Duration::days(3)),
                    updated_at: Set(*at),
                }
            },
        )
        .collect();
    let story_count = stories.len();
    insert_all(db, events).await?;
    insert_all(db, stories).await?;
    Ok(DutyReport {
        pairings: 0,
        activities: activity_count,
        stories: story_count,
    })
}
