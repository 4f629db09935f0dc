//! Organisation and deputies: townships, the 72 sites, 滨河社区's grids, departments,
//! special committees, deputies at every level, resident assignments, grid links and
//! part-time liaisons, categories and campaigns.
use chrono::{Duration, NaiveDate};
use entity::*;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use super::data::{self, StationSeed};
use super::rng::SeedRng;
use super::{epoch, insert_all, SeedReport};
use crate::domain::deputy_code;
use crate::domain::place::Point;
use crate::error::AppResult;

const SEED: u64 = 0x4865_7368_756e; // "Heshun"

fn township_kind(kind: &str) -> TownshipKind {
    match kind {
        "town" => TownshipKind::Town,
        "district" => TownshipKind::District,
        _ => TownshipKind::Township,
    }
}

fn station_kind(kind: &str) -> StationKind {
    match kind {
        "liaison_station" => StationKind::LiaisonStation,
        "service_point" => StationKind::ServicePoint,
        "service_post" => StationKind::ServicePost,
        _ => StationKind::DemonstrationBase,
    }
}

/// How many resident deputies each kind of site gets.
fn residents_for(kind: StationKind, code: &str) -> usize {
    match kind {
        _ if code == "binhe" => 6,
        StationKind::LiaisonStation => 5,
        StationKind::DemonstrationBase => 4,
        StationKind::ServicePoint => 3,
        StationKind::ServicePost => 2,
    }
}

struct DeputyDraft {
    level: CongressLevel,
    township: Option<usize>,
}

/// Deputies per level: 1 national, 4 provincial, 12 municipal, 160 county and 20 per
/// township, the county's share spread over its townships.
fn deputy_drafts(townships: usize) -> Vec<DeputyDraft> {
    let mut drafts = Vec::new();
    let upper = [
        (CongressLevel::National, 1),
        (CongressLevel::Provincial, 4),
        (CongressLevel::Municipal, 12),
    ];
    for (level, count) in upper {
        for i in 0..count {
            drafts.push(DeputyDraft {
                level,
                township: Some(i % townships),
            });
        }
    }
    for i in 0..160 {
        drafts.push(DeputyDraft {
            level: CongressLevel::County,
            township: Some(i % townships),
        });
    }
    for t in 0..townships {
        for _ in 0..20 {
            drafts.push(DeputyDraft {
                level: CongressLevel::Township,
                township: Some(t),
            });
        }
    }
    drafts
}

fn phone(rng: &mut SeedRng) -> String {
    let prefixes = [
        "135", "138", "139", "150", "152", "157", "183", "187", "199",
    ];
    format!("{}{:08}", rng.pick(&prefixes), rng.next_u64() % 100_000_000)
}

/// A demo station's position: its township's centre moved by up to ±0.02° north-south
/// (±2.2 km) and ±0.025° east-west (±2.2 km at 37° N), drawn from the station's code,
/// so the same station is always at the same place.
pub fn station_point(code: &str, township: &str) -> Point {
    let centre = data::TOWNSHIPS
        .iter()
        .find(|t| t.code == township)
        .map_or((37.33, 113.57), |t| t.centre);
    // FNV-1a of the code seeds the generator.
    let hash = code.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut rng = SeedRng::new(hash);
    let mut offset = |half_range: f64| (rng.below(2001) as f64 - 1000.0) / 1000.0 * half_range;
    let (lat, lon) = (centre.0 + offset(0.02), centre.1 + offset(0.025));
    Point {
        lat_e7: (lat * 1e7).round() as i32,
        lon_e7: (lon * 1e7).round() as i32,
    }
}

pub async fn seed<C: ConnectionTrait>(db: &C) -> AppResult<SeedReport> {
    let mut rng = SeedRng::new(SEED);
    let now = epoch();
    let term_start = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap_or_default();
    let mut report = SeedReport::default();

    // Townships.
    let townships: Vec<township::ActiveModel> = data::TOWNSHIPS
        .iter()
        .enumerate()
        .map(|(i, t)| township::ActiveModel {
            id: Set(i as i64 + 1),
            code: Set(t.code.into()),
            name: Set(t.name.into()),
            kind: Set(township_kind(t.kind)),
            sort_order: Set(i as i32),
            created_at: Set(now),
        })
        .collect();
    report.townships = townships.len();
    insert_all(db, townships).await?;
    let township_index = |code: &str| {
        data::TOWNSHIPS
            .iter()
            .position(|t| t.code == code)
            .unwrap_or(0)
    };
    let township_id = |index: usize| index as i64 + 1;

    // Stations.
    let stations: Vec<(i64, &StationSeed)> = data::STATIONS
        .iter()
        .enumerate()
        .map(|(i, s)| (i as i64 + 1, s))
        .collect();
    let station_rows: Vec<station::ActiveModel> = stations
        .iter()
        .map(|(id, s)| station::ActiveModel {
            id: Set(*id),
            code: Set(s.code.into()),
            name: Set(s.name.into()),
            kind: Set(station_kind(s.kind)),
            township_id: Set(township_id(township_index(s.township))),
            parent_id: Set(None),
            is_brand: Set(s.brand_name.is_some()),
            brand_name: Set(s.brand_name.map(Into::into)),
            feature: Set(s.feature.map(Into::into)),
            address: Set(Some(s.address.into())),
            reception_hours: Set(Some(match station_kind(s.kind) {
                StationKind::LiaisonStation => "每月15日集中接待;线上24小时受理".into(),
                _ => "每周三上午接待;线上24小时受理".into(),
            })),
            created_at: Set(now),
            updated_at: Set(now),
            latitude_e7: Set(Some(station_point(s.code, s.township).lat_e7)),
            longitude_e7: Set(Some(station_point(s.code, s.township).lon_e7)),
        })
        .collect();
    report.stations = station_rows.len();
    insert_all(db, station_rows).await?;
    let binhe_id = stations
        .iter()
        .find(|(_, s)| s.code == "binhe")
        .map(|(id, _)| *id)
        .unwrap_or(1);

    // 滨河社区's 8 grids.
    let grids: Vec<grid::ActiveModel> = data::BINHE_GRIDS
        .iter()
        .enumerate()
        .map(|(i, name)| grid::ActiveModel {
            id: Set(i as i64 + 1),
            station_id: Set(binhe_id),
            name: Set((*name).into()),
            description: Set(Some(
                "网格员、社区民警、物业人员与驻站代表组成“融合共治小组”".into(),
            )),
            created_at: Set(now),
        })
        .collect();
    report.grids = grids.len();
    insert_all(db, grids).await?;

    // Departments.
    let departments: Vec<department::ActiveModel> = data::DEPARTMENTS
        .iter()
        .enumerate()
        .map(|(i, d)| department::ActiveModel {
            id: Set(i as i64 + 1),
            code: Set(d.code.into()),
            name: Set(d.name.into()),
            level: Set(if d.level == "county" {
                DepartmentLevel::County
            } else {
                DepartmentLevel::Township
            }),
            township_id: Set(d.township.map(|code| township_id(township_index(code)))),
            phone: Set(Some(format!("0354-{:07}", 8_800_000 + i))),
            created_at: Set(now),
        })
        .collect();
    report.departments = departments.len();
    insert_all(db, departments).await?;

    // Special committees.
    let committees: Vec<special_committee::ActiveModel> = data::SPECIAL_COMMITTEES
        .iter()
        .enumerate()
        .map(|(i, c)| special_committee::ActiveModel {
            id: Set(i as i64 + 1),
            code: Set(c.code.into()),
            name: Set(c.name.into()),
            professional_field: Set(c.field.into()),
            created_at: Set(now),
        })
        .collect();
    insert_all(db, committees).await?;

    // Deputies.
    let drafts = deputy_drafts(data::TOWNSHIPS.len());
    let mut deputies: Vec<deputy::Model> = Vec::with_capacity(drafts.len());
    let mut codes = std::collections::HashSet::new();
    let mut county_seen = 0usize;
    for (i, draft) in drafts.iter().enumerate() {
        let surname = *rng.pick(data::SURNAMES);
        let given_index = rng.below(data::GIVEN_NAMES.len());
        let gender = if given_index < data::FEMALE_GIVEN_NAMES {
            Gender::Female
        } else {
            Gender::Male
        };
        let mut code = deputy_code::from_fn(|| rng.next_u64());
        while !codes.insert(code.clone()) {
            code = deputy_code::from_fn(|| rng.next_u64());
        }
        let upper = matches!(
            draft.level,
            CongressLevel::National | CongressLevel::Provincial | CongressLevel::Municipal
        );
        let county_rank = if draft.level == CongressLevel::County {
            county_seen += 1;
            Some(county_seen)
        } else {
            None
        };
        // Six standing-committee leaders and 24 further members among county deputies.
        let is_sc_leader = county_rank.is_some_and(|r| r <= 6);
        let is_sc_member = is_sc_leader || county_rank.is_some_and(|r| r > 6 && r <= 30);
        let is_leading_cadre =
            is_sc_leader || (upper && i % 2 == 0) || county_rank.is_some_and(|r| r % 6 == 0);
        let professional_field = rng
            .chance(30)
            .then(|| (*rng.pick(data::PROFESSIONAL_FIELDS)).to_owned());
        deputies.push(deputy::Model {
            id: i as i64 + 1,
            code,
            name: format!("{surname}{}", data::GIVEN_NAMES[given_index]),
            gender,
            level: draft.level,
            township_id: draft.township.map(township_id),
            is_leading_cadre,
            term_status: if rng.chance(45) {
                TermStatus::ReElected
            } else {
                TermStatus::FirstTerm
            },
            is_sc_member,
            is_sc_leader,
            professional_field,
            occupation: Some((*rng.pick(data::OCCUPATIONS)).to_owned()),
            phone: Some(phone(&mut rng)),
            bio: None,
            active: true,
            created_at: now,
            updated_at: now,
        });
    }
    report.deputies = deputies.len();
    insert_all(
        db,
        deputies
            .iter()
            .cloned()
            .map(|d| deputy::ActiveModel::from(d).reset_all())
            .collect(),
    )
    .await?;

    // Committee links: each special committee with the deputies of its field.
    let mut committee_links = Vec::new();
    for (ci, committee) in data::SPECIAL_COMMITTEES.iter().enumerate() {
        for deputy in deputies
            .iter()
            .filter(|d| d.professional_field.as_deref() == Some(committee.field))
        {
            committee_links.push(committee_deputy::ActiveModel {
                id: Set(committee_links.len() as i64 + 1),
                committee_id: Set(ci as i64 + 1),
                deputy_id: Set(deputy.id),
                created_at: Set(now),
            });
        }
    }
    insert_all(db, committee_links).await?;

    // Resident deputies: county and township deputies of the station's township, each
    // at one station at most. Standing-committee leaders stay unassigned.
    let mut available: Vec<Vec<i64>> = vec![Vec::new(); data::TOWNSHIPS.len()];
    for d in deputies.iter().filter(|d| {
        matches!(d.level, CongressLevel::County | CongressLevel::Township) && !d.is_sc_leader
    }) {
        if let Some(t) = d.township_id {
            available[(t - 1) as usize].push(d.id);
        }
    }
    let mut assignments = Vec::new();
    let mut binhe_residents = Vec::new();
    for (station_id, s) in &stations {
        let pool = &mut available[township_index(s.township)];
        for _ in 0..residents_for(station_kind(s.kind), s.code) {
            let Some(deputy_id) = pool.pop() else { break };
            if *station_id == binhe_id {
                binhe_residents.push(deputy_id);
            }
            assignments.push(deputy_station::ActiveModel {
                id: Set(assignments.len() as i64 + 1),
                deputy_id: Set(deputy_id),
                station_id: Set(*station_id),
                is_resident: Set(true),
                since: Set(term_start + Duration::days(rng.below(60) as i64)),
                until: Set(None),
                created_at: Set(now),
            });
        }
    }
    report.resident_assignments = assignments.len();
    insert_all(db, assignments).await?;

    // Each 滨河 resident deputy links one or two grids (every grid covered).
    let mut grid_links = Vec::new();
    let grid_count = data::BINHE_GRIDS.len();
    for (k, deputy_id) in binhe_residents.iter().enumerate() {
        let mut grids = vec![k % grid_count];
        if k + binhe_residents.len() < grid_count {
            grids.push(k + binhe_residents.len());
        }
        for g in grids {
            grid_links.push(deputy_grid::ActiveModel {
                id: Set(grid_links.len() as i64 + 1),
                deputy_id: Set(*deputy_id),
                grid_id: Set(g as i64 + 1),
                created_at: Set(now),
            });
        }
    }
    insert_all(db, grid_links).await?;

    // Part-time liaisons: 22 grid workers (8 at 滨河, one per grid) and 15 volunteers.
    let liaison_stations: Vec<i64> = stations
        .iter()
        .filter(|(id, s)| *id != binhe_id && s.kind == "liaison_station")
        .map(|(id, _)| *id)
        .collect();
    let mut liaisons = Vec::new();
    for i in 0..37usize {
        let (kind, station_id, grid_id) = match i {
            0..=7 => (LiaisonKind::GridWorker, binhe_id, Some(i as i64 + 1)),
            8..=21 => (
                LiaisonKind::GridWorker,
                liaison_stations[i % liaison_stations.len()],
                None,
            ),
            _ => (
                LiaisonKind::Volunteer,
                liaison_stations[i % liaison_stations.len()],
                None,
            ),
        };
        let given = data::GIVEN_NAMES[rng.below(data::GIVEN_NAMES.len())];
        liaisons.push(liaison::ActiveModel {
            id: Set(i as i64 + 1),
            station_id: Set(station_id),
            grid_id: Set(grid_id),
            name: Set(format!("{}{}", rng.pick(data::SURNAMES), given)),
            kind: Set(kind),
            phone: Set(Some(phone(&mut rng))),
            active: Set(true),
            created_at: Set(now),
        });
    }
    report.liaisons = liaisons.len();
    insert_all(db, liaisons).await?;

    // Categories and campaigns.
    let categories: Vec<category::ActiveModel> = data::CATEGORIES
        .iter()
        .enumerate()
        .map(|(i, (code, name))| category::ActiveModel {
            id: Set(i as i64 + 1),
            code: Set((*code).into()),
            name: Set((*name).into()),
            sort_order: Set(i as i32),
            active: Set(true),
        })
        .collect();
    insert_all(db, categories).await?;
    let campaigns: Vec<campaign::ActiveModel> = data::CAMPAIGNS
        .iter()
        .enumerate()
        .map(|(i, (name, description))| campaign::ActiveModel {
            id: Set(i as i64 + 1),
            name: Set((*name).into()),
            description: Set(Some((*description).into())),
            starts_on: Set(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap_or_default()),
            ends_on: Set(NaiveDate::from_ymd_opt(2025, 11, 30)),
            created_at: Set(now),
        })
        .collect();
    insert_all(db, campaigns).await?;

    Ok(report)
}
