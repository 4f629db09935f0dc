//! What is stored, read back as the rows of a file (ids turned into codes), so that a
//! file is compared with it row by row; and the id of every natural key.
use std::collections::HashMap;

use entity::{
    account, account_role, category, committee_deputy, department, deputy, deputy_grid,
    deputy_station, grid, liaison, pairing, special_committee, station, township,
};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::domain::import::plan::Keyed;
use crate::domain::import::rows::*;
use crate::domain::import::Kind;
use crate::error::AppResult;

/// The id of each stored row, by kind and natural key.
#[derive(Debug, Default)]
pub struct Ids(HashMap<(Kind, String), i64>);

impl Ids {
    pub fn get(&self, kind: Kind, key: &str) -> Option<i64> {
        self.0.get(&(kind, key.to_owned())).copied()
    }

    pub fn insert(&mut self, kind: Kind, key: String, id: i64) {
        self.0.insert((kind, key), id);
    }

    fn keep<T: Keyed>(&mut self, rows: &mut Vec<(At, T)>, id: i64, row: T) {
        self.insert(T::KIND, row.key(), id);
        rows.push((At::default(), row));
    }
}

/// Codes by id, to write references the way a file does.
#[derive(Default)]
struct Codes {
    township: HashMap<i64, String>,
    station: HashMap<i64, String>,
    grid: HashMap<i64, (String, String)>,
    department: HashMap<i64, String>,
    deputy: HashMap<i64, String>,
}

fn code(map: &HashMap<i64, String>, id: Option<i64>) -> Option<String> {
    id.and_then(|id| map.get(&id).cloned())
}

/// Everything stored that a file may name, as rows, with their ids.
pub async fn load<C: ConnectionTrait>(db: &C) -> AppResult<(Dataset, Ids)> {
    let mut data = Dataset::default();
    let mut ids = Ids::default();
    let mut codes = Codes::default();
    places(db, &mut data, &mut ids, &mut codes).await?;
    stations(db, &mut data, &mut ids, &mut codes).await?;
    deputies(db, &mut data, &mut ids, &mut codes).await?;
    links(db, &mut data, &mut ids, &codes).await?;
    accounts(db, &mut data, &mut ids, &codes).await?;
    committees(db, &mut data, &mut ids, &codes).await?;
    pairings(db, &mut data, &mut ids, &codes).await?;
    Ok((data, ids))
}

async fn places<C: ConnectionTrait>(
    db: &C,
    data: &mut Dataset,
    ids: &mut Ids,
    codes: &mut Codes,
) -> AppResult<()> {
    let townships = township::Entity::find()
        .order_by_asc(township::Column::Id)
        .all(db)
        .await?;
    for t in townships {
        codes.township.insert(t.id, t.code.clone());
        let row = TownshipRow {
            code: t.code,
            name: t.name,
            kind: t.kind,
            sort_order: t.sort_order,
        };
        ids.keep(&mut data.townships, t.id, row);
    }
    let departments = department::Entity::find()
        .order_by_asc(department::Column::Id)
        .all(db)
        .await?;
    for d in departments {
        codes.department.insert(d.id, d.code.clone());
        let township = code(&codes.township, d.township_id);
        let row = DepartmentRow {
            code: d.code,
            name: d.name,
            level: d.level,
            township,
            phone: d.phone,
        };
        ids.keep(&mut data.departments, d.id, row);
    }
    categories(db, data, ids).await
}

async fn categories<C: ConnectionTrait>(
    db: &C,
    data: &mut Dataset,
    ids: &mut Ids,
) -> AppResult<()> {
    let categories = category::Entity::find()
        .order_by_asc(category::Column::Id)
        .all(db)
        .await?;
    for c in categories {
        let row = CategoryRow {
            code: c.code,
            name: c.name,
            sort_order: c.sort_order,
            active: c.active,
        };
        ids.keep(&mut data.categories, c.id, row);
    }
    Ok(())
}

async fn stations<C: ConnectionTrait>(
    db: &C,
    data: &mut Dataset,
    ids: &mut Ids,
    codes: &mut Codes,
) -> AppResult<()> {
    let stations = station::Entity::find()
        .order_by_asc(station::Column::Id)
        .all(db)
        .await?;
    codes.station = stations.iter().map(|s| (s.id, s.code.clone())).collect();
    for s in stations {
        let row = StationRow {
            code: s.code,
            name: s.name,
            township: code(&codes.township, Some(s.township_id)).unwrap_or_default(),
            kind: s.kind,
            parent: code(&codes.station, s.parent_id),
            brand_name: s.brand_name,
            feature: s.feature,
            address: s.address,
            reception_hours: s.reception_hours,
            location: crate::domain::place::Point::from_stored(s.latitude_e7, s.longitude_e7),
        };
        ids.keep(&mut data.stations, s.id, row);
    }
    let grids = grid::Entity::find()
        .order_by_asc(grid::Column::Id)
        .all(db)
        .await?;
    for g in grids {
        let station = code(&codes.station, Some(g.station_id)).unwrap_or_default();
        codes.grid.insert(g.id, (station.clone(), g.name.clone()));
        let row = GridRow {
            station,
            name: g.name,
            description: g.description,
        };
        ids.keep(&mut data.grids, g.id, row);
    }
    Ok(())
}

async fn deputies<C: ConnectionTrait>(
    db: &C,
    data: &mut Dataset,
    ids: &mut Ids,
    codes: &mut Codes,
) -> AppResult<()> {
    let deputies = deputy::Entity::find()
        .order_by_asc(deputy::Column::Id)
        .all(db)
        .await?;
    for d in deputies {
        codes.deputy.insert(d.id, d.code.clone());
        if !d.active {
            data.inactive_deputies.insert(d.code.clone());
        }
        let row = DeputyRow {
            code: d.code,
            name: d.name,
            gender: d.gender,
            level: d.level,
            township: code(&codes.township, d.township_id),
            leading_cadre: d.is_leading_cadre,
            term: d.term_status,
            sc_member: d.is_sc_member,
            sc_leader: d.is_sc_leader,
            field: d.professional_field,
            occupation: d.occupation,
            phone: d.phone,
        };
        ids.keep(&mut data.deputies, d.id, row);
    }
    Ok(())
}

async fn links<C: ConnectionTrait>(
    db: &C,
    data: &mut Dataset,
    ids: &mut Ids,
    codes: &Codes,
) -> AppResult<()> {
    // A deputy's latest assignment to a station stands for the pair.
    let residents = deputy_station::Entity::find()
        .order_by_asc(deputy_station::Column::Id)
        .all(db)
        .await?;
    let mut latest: HashMap<(i64, i64), deputy_station::Model> = HashMap::new();
    for r in residents {
        latest.insert((r.deputy_id, r.station_id), r);
    }
    let mut latest: Vec<_> = latest.into_values().collect();
    latest.sort_by_key(|r| r.id);
    for r in latest {
        let deputy = code(&codes.deputy, Some(r.deputy_id)).unwrap_or_default();
        let station = code(&codes.station, Some(r.station_id)).unwrap_or_default();
        let row = ResidentRow {
            deputy,
            station,
            since: r.since,
            until: r.until,
        };
        ids.keep(&mut data.residents, r.id, row);
    }
    grid_links(db, data, ids, codes).await?;
    liaisons(db, data, ids, codes).await
}

async fn grid_links<C: ConnectionTrait>(
    db: &C,
    data: &mut Dataset,
    ids: &mut Ids,
    codes: &Codes,
) -> AppResult<()> {
    let grid_links = deputy_grid::Entity::find()
        .order_by_asc(deputy_grid::Column::Id)
        .all(db)
        .await?;
    for l in grid_links {
        let (station, grid) = codes.grid.get(&l.grid_id).cloned().unwrap_or_default();
        let deputy = code(&codes.deputy, Some(l.deputy_id)).unwrap_or_default();
        ids.keep(
            &mut data.grid_links,
            l.id,
            GridLinkRow {
                deputy,
                station,
                grid,
            },
        );
    }
    Ok(())
}

async fn liaisons<C: ConnectionTrait>(
    db: &C,
    data: &mut Dataset,
    ids: &mut Ids,
    codes: &Codes,
) -> AppResult<()> {
    let liaisons = liaison::Entity::find()
        .order_by_asc(liaison::Column::Id)
        .all(db)
        .await?;
    for l in liaisons {
        let Some(phone) = l.phone else { continue };
        let row = LiaisonRow {
            phone,
            name: l.name,
            station: code(&codes.station, Some(l.station_id)).unwrap_or_default(),
            grid: l
                .grid_id
                .and_then(|g| codes.grid.get(&g))
                .map(|(_, name)| name.clone()),
            kind: l.kind,
            active: l.active,
        };
        ids.keep(&mut data.liaisons, l.id, row);
    }
    Ok(())
}

async fn accounts<C: ConnectionTrait>(
    db: &C,
    data: &mut Dataset,
    ids: &mut Ids,
    codes: &Codes,
) -> AppResult<()> {
    let roles = account_role::Entity::find()
        .order_by_asc(account_role::Column::Id)
        .all(db)
        .await?;
    let mut grants: HashMap<i64, Vec<GrantRow>> = HashMap::new();
    for r in roles {
        grants.entry(r.account_id).or_default().push(GrantRow {
            role: r.role,
            station: code(&codes.station, r.station_id),
            department: code(&codes.department, r.department_id),
            township: code(&codes.township, r.township_id),
        });
    }
    let accounts = account::Entity::find()
        .order_by_asc(account::Column::Id)
        .all(db)
        .await?;
    for a in accounts {
        let row = AccountRow {
            login: a.login,
            display_name: a.display_name,
            phone: a.phone,
            deputy: code(&codes.deputy, a.deputy_id),
            grants: grants.remove(&a.id).unwrap_or_default(),
        };
        ids.keep(&mut data.accounts, a.id, row);
    }
    Ok(())
}

async fn committees<C: ConnectionTrait>(
    db: &C,
    data: &mut Dataset,
    ids: &mut Ids,
    codes: &Codes,
) -> AppResult<()> {
    let committees = special_committee::Entity::find()
        .order_by_asc(special_committee::Column::Id)
        .all(db)
        .await?;
    let committee_codes: HashMap<i64, String> =
        committees.iter().map(|c| (c.id, c.code.clone())).collect();
    for c in committees {
        let row = CommitteeRow {
            code: c.code,
            name: c.name,
            field: c.professional_field,
        };
        ids.keep(&mut data.committees, c.id, row);
    }
    let members = committee_deputy::Entity::find()
        .order_by_asc(committee_deputy::Column::Id)
        .all(db)
        .await?;
    for m in members {
        let row = CommitteeMemberRow {
            committee: code(&committee_codes, Some(m.committee_id)).unwrap_or_default(),
            deputy: code(&codes.deputy, Some(m.deputy_id)).unwrap_or_default(),
        };
        ids.keep(&mut data.committee_members, m.id, row);
    }
    Ok(())
}

/// A pair's latest pairing (ended or not) stands for it, as a deputy's latest
/// assignment to a station does.
async fn pairings<C: ConnectionTrait>(
    db: &C,
    data: &mut Dataset,
    ids: &mut Ids,
    codes: &Codes,
) -> AppResult<()> {
    let pairings = pairing::Entity::find()
        .order_by_asc(pairing::Column::Id)
        .all(db)
        .await?;
    let mut latest: HashMap<String, (i64, PairingRow)> = HashMap::new();
    for p in pairings {
        let row = PairingRow {
            kind: p.kind,
            senior: code(&codes.deputy, Some(p.senior_deputy_id)).unwrap_or_default(),
            junior: code(&codes.deputy, p.junior_deputy_id),
            township: code(&codes.township, p.township_id),
            started_on: p.started_on,
            ended_on: p.ended_on,
            note: p.note,
        };
        latest.insert(row.key(), (p.id, row));
    }
    let mut latest: Vec<_> = latest.into_values().collect();
    latest.sort_by_key(|(id, _)| *id);
    for (id, row) in latest {
        ids.keep(&mut data.pairings, id, row);
    }
    Ok(())
}
