//! Writes a plan's rows, kind by kind, in the import's transaction: a row whose
//! natural key is stored is updated in place (its id kept), any other is inserted.
use chrono::{DateTime, Utc};
use entity::{
    account, account_role, category, committee_deputy, department, deputy, deputy_grid,
    deputy_station, grid, liaison, pairing, special_committee, station, township,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::current::Ids;
use crate::auth::{ClientInfo, Principal};
use crate::domain::import::plan::Keyed;
use crate::domain::import::rows::{AccountRow, Dataset, GrantRow};
use crate::domain::import::Kind;
use crate::error::{AppError, AppResult};
use crate::service::accounts::admin::GrantSpec;
use crate::service::accounts::setup::{self, IssuedCode};
use crate::service::support::audit::{self, action, Entry};

/// Updates the stored row of `$row`'s key (by id) or inserts it with `created_at`.
macro_rules! upsert {
    ($w:expr, $row:expr, $model:expr) => {{
        let mut model = $model;
        let key = Keyed::key($row);
        match $w.ids.get(kind_of($row), &key) {
            Some(id) => {
                model.id = Set(id);
                model.update($w.db).await?.id
            }
            None => {
                model.created_at = Set($w.now);
                let id = model.insert($w.db).await?.id;
                $w.ids.insert(kind_of($row), key, id);
                id
            }
        }
    }};
}

fn kind_of<T: Keyed>(_: &T) -> Kind {
    T::KIND
}

pub struct Writer<'a, C> {
    pub db: &'a C,
    pub ids: Ids,
    pub now: DateTime<Utc>,
    pub client: &'a ClientInfo,
    /// The admin who uploaded the files; `None` from the command line.
    pub by: Option<&'a Principal>,
    /// The password hash of new accounts: of a secret nobody knows, so no password
    /// opens them until their one-time code has set one.
    pub locked_hash: &'a str,
}

impl<C: ConnectionTrait> Writer<'_, C> {
    fn id(&self, kind: Kind, key: &str) -> AppResult<i64> {
        self.ids
            .get(kind, key)
            .ok_or_else(|| AppError::internal(format!("import: {kind:?} {key} vanished")))
    }

    /// What the audit says made a change: `import by <admin's login>` or
    /// `import (command line)`.
    fn source(&self) -> String {
        match self.by {
            Some(admin) => format!("import by {}", admin.login),
            None => "import (command line)".to_owned(),
        }
    }

    fn optional_id(&self, kind: Kind, key: Option<&String>) -> AppResult<Option<i64>> {
        key.map(|k| self.id(kind, k)).transpose()
    }

    /// Every row of the plan (`changes` of them); the codes of the accounts it created.
    /// An admin's import is audited under the admin's account.
    pub async fn write(&mut self, data: &Dataset, changes: usize) -> AppResult<Vec<IssuedCode>> {
        self.places(data).await?;
        self.stations(data).await?;
        self.deputies(data).await?;
        self.links(data).await?;
        self.committees(data).await?;
        self.pairings(data).await?;
        let mut codes = Vec::new();
        for (_, row) in &data.accounts {
            codes.extend(self.account(row).await?);
        }
        if let Some(admin) = self.by {
            let detail = Some(format!("{changes} changes"));
            let entry = Entry::by(admin, action::ORGANISATION_IMPORTED, detail);
            audit::record(self.db, self.client, entry).await?;
        }
        Ok(codes)
    }

    async fn places(&mut self, data: &Dataset) -> AppResult<()> {
        for (_, t) in &data.townships {
            upsert!(
                self,
                t,
                township::ActiveModel {
                    code: Set(t.code.clone()),
                    name: Set(t.name.clone()),
                    kind: Set(t.kind),
                    sort_order: Set(t.sort_order),
                    ..Default::default()
                }
            );
        }
        for (_, d) in &data.departments {
            let township_id = self.optional_id(Kind::Townships, d.township.as_ref())?;
            upsert!(
                self,
                d,
                department::ActiveModel {
                    code: Set(d.code.clone()),
                    name: Set(d.name.clone()),
                    level: Set(d.level),
                    township_id: Set(township_id),
                    phone: Set(d.phone.clone()),
                    ..Default::default()
                }
            );
        }
        self.categories(data).await
    }

    /// Categories have no `created_at`: the one kind the macro does not fit.
    async fn categories(&mut self, data: &Dataset) -> AppResult<()> {
        for (_, c) in &data.categories {
            let model = category::ActiveModel {
                code: Set(c.code.clone()),
                name: Set(c.name.clone()),
                sort_order: Set(c.sort_order),
                active: Set(c.active),
                ..Default::default()
            };
            match self.ids.get(Kind::Categories, &c.code) {
                Some(id) => {
                    category::ActiveModel {
                        id: Set(id),
                        ..model
                    }
                    .update(self.db)
                    .await?
                }
                None => model.insert(self.db).await?,
            };
        }
        Ok(())
    }

    async fn stations(&mut self, data: &Dataset) -> AppResult<()> {
        for (_, s) in &data.stations {
            let township_id = self.id(Kind::Townships, &s.township)?;
            upsert!(
                self,
                s,
                station::ActiveModel {
                    code: Set(s.code.clone()),
                    name: Set(s.name.clone()),
                    kind: Set(s.kind),
                    township_id: Set(township_id),
                    is_brand: Set(s.brand_name.is_some()),
                    brand_name: Set(s.brand_name.clone()),
                    feature: Set(s.feature.clone()),
                    address: Set(s.address.clone()),
                    reception_hours: Set(s.reception_hours.clone()),
                    latitude_e7: Set(s.location.map(|p| p.lat_e7)),
                    longitude_e7: Set(s.location.map(|p| p.lon_e7)),
                    updated_at: Set(self.now),
                    ..Default::default()
                }
            );
        }
        // Parents once every station of the file has its id.
        for (_, s) in &data.stations {
            station::ActiveModel {
                id: Set(self.id(Kind::Stations, &s.code)?),
                parent_id: Set(self.optional_id(Kind::Stations, s.parent.as_ref())?),
                ..Default::default()
            }
            .update(self.db)
            .await?;
        }
        self.grids(data).await
    }

    async fn grids(&mut self, data: &Dataset) -> AppResult<()> {
        for (_, g) in &data.grids {
            let station_id = self.id(Kind::Stations, &g.station)?;
            upsert!(
                self,
                g,
                grid::ActiveModel {
                    station_id: Set(station_id),
                    name: Set(g.name.clone()),
                    description: Set(g.description.clone()),
                    ..Default::default()
                }
            );
        }
        Ok(())
    }

    async fn deputies(&mut self, data: &Dataset) -> AppResult<()> {
        for (_, d) in &data.deputies {
            let township_id = self.optional_id(Kind::Townships, d.township.as_ref())?;
            upsert!(
                self,
                d,
                deputy::ActiveModel {
                    code: Set(d.code.clone()),
                    name: Set(d.name.clone()),
                    gender: Set(d.gender),
                    level: Set(d.level),
                    township_id: Set(township_id),
                    is_leading_cadre: Set(d.leading_cadre),
                    term_status: Set(d.term),
                    is_sc_member: Set(d.sc_member),
                    is_sc_leader: Set(d.sc_leader),
                    professional_field: Set(d.field.clone()),
                    occupation: Set(d.occupation.clone()),
                    phone: Set(d.phone.clone()),
                    active: Set(true),
                    updated_at: Set(self.now),
                    ..Default::default()
                }
            );
        }
        Ok(())
    }

    async fn links(&mut self, data: &Dataset) -> AppResult<()> {
        for (_, r) in &data.residents {
            let deputy_id = self.id(Kind::Deputies, &r.deputy)?;
            let station_id = self.id(Kind::Stations, &r.station)?;
            upsert!(
                self,
                r,
                deputy_station::ActiveModel {
                    deputy_id: Set(deputy_id),
                    station_id: Set(station_id),
                    is_resident: Set(true),
                    since: Set(r.since),
                    until: Set(r.until),
                    ..Default::default()
                }
            );
        }
        for (_, l) in &data.grid_links {
            let deputy_id = self.id(Kind::Deputies, &l.deputy)?;
            let grid_id = self.id(Kind::Grids, &format!("{}/{}", l.station, l.grid))?;
            upsert!(
                self,
                l,
                deputy_grid::ActiveModel {
                    deputy_id: Set(deputy_id),
                    grid_id: Set(grid_id),
                    ..Default::default()
                }
            );
        }
        for (_, l) in &data.liaisons {
            let station_id = self.id(Kind::Stations, &l.station)?;
            let grid = l.grid.as_ref().map(|g| format!("{}/{g}", l.station));
            let grid_id = self.optional_id(Kind::Grids, grid.as_ref())?;
            upsert!(
                self,
                l,
                liaison::ActiveModel {
                    station_id: Set(station_id),
                    grid_id: Set(grid_id),
                    name: Set(l.name.clone()),
                    kind: Set(l.kind),
                    phone: Set(Some(l.phone.clone())),
                    active: Set(l.active),
                    ..Default::default()
                }
            );
        }
        Ok(())
    }

    async fn committees(&mut self, data: &Dataset) -> AppResult<()> {
        for (_, c) in &data.committees {
            upsert!(
                self,
                c,
                special_committee::ActiveModel {
                    code: Set(c.code.clone()),
                    name: Set(c.name.clone()),
                    professional_field: Set(c.field.clone()),
                    ..Default::default()
                }
            );
        }
        for (_, m) in &data.committee_members {
            let committee_id = self.id(Kind::Committees, &m.committee)?;
            let deputy_id = self.id(Kind::Deputies, &m.deputy)?;
            upsert!(
                self,
                m,
                committee_deputy::ActiveModel {
                    committee_id: Set(committee_id),
                    deputy_id: Set(deputy_id),
                    ..Default::default()
                }
            );
        }
        Ok(())
    }

    async fn pairings(&mut self, data: &Dataset) -> AppResult<()> {
        for (_, p) in &data.pairings {
            let senior_deputy_id = self.id(Kind::Deputies, &p.senior)?;
            let junior_deputy_id = self.optional_id(Kind::Deputies, p.junior.as_ref())?;
            let township_id = self.optional_id(Kind::Townships, p.township.as_ref())?;
            upsert!(
                self,
                p,
                pairing::ActiveModel {
                    kind: Set(p.kind),
                    senior_deputy_id: Set(senior_deputy_id),
                    junior_deputy_id: Set(junior_deputy_id),
                    township_id: Set(township_id),
                    started_on: Set(p.started_on),
                    ended_on: Set(p.ended_on),
                    note: Set(p.note.clone()),
                    ..Default::default()
                }
            );
        }
        Ok(())
    }

    /// Creates or updates the account and adds the roles it lacks; a new account
    /// gets its one-time code.
    async fn account(&mut self, a: &AccountRow) -> AppResult<Option<IssuedCode>> {
        let deputy_id = self.optional_id(Kind::Deputies, a.deputy.as_ref())?;
        let existing = self.ids.get(Kind::Accounts, &a.login);
        let fields = account::ActiveModel {
            display_name: Set(a.display_name.clone()),
            phone: Set(a.phone.clone()),
            deputy_id: Set(deputy_id),
            ..Default::default()
        };
        let account = match existing {
            Some(id) => {
                account::ActiveModel {
                    id: Set(id),
                    ..fields
                }
                .update(self.db)
                .await?
            }
            None => self.new_account(a, fields).await?,
        };
        for grant in &a.grants {
            self.grant(&account, grant).await?;
        }
        match existing {
            Some(_) => Ok(None),
            None => setup::issue(self.db, &account, self.now).await.map(Some),
        }
    }

    async fn new_account(
        &mut self,
        a: &AccountRow,
        fields: account::ActiveModel,
    ) -> AppResult<account::Model> {
        let account = account::ActiveModel {
            login: Set(a.login.clone()),
            password_hash: Set(self.locked_hash.to_owned()),
            disabled: Set(false),
            created_at: Set(self.now),
            password_changed_at: Set(self.now),
            ..fields
        }
        .insert(self.db)
        .await?;
        self.ids.insert(Kind::Accounts, a.login.clone(), account.id);
        let entry = Entry::about(&account, action::ACCOUNT_CREATED, Some(self.source()));
        audit::record(self.db, self.client, entry).await?;
        Ok(account)
    }

    /// Adds the role unless the account holds it already.
    async fn grant(&self, account: &account::Model, grant: &GrantRow) -> AppResult<()> {
        let spec = GrantSpec {
            role: grant.role,
            station_id: self.optional_id(Kind::Stations, grant.station.as_ref())?,
            department_id: self.optional_id(Kind::Departments, grant.department.as_ref())?,
            township_id: self.optional_id(Kind::Townships, grant.township.as_ref())?,
        };
        let scope_key = spec.validate()?;
        let held = account_role::Entity::find()
            .filter(account_role::Column::AccountId.eq(account.id))
            .filter(account_role::Column::Role.eq(grant.role))
            .filter(account_role::Column::ScopeKey.eq(scope_key.clone()))
            .one(self.db)
            .await?;
        if held.is_some() {
            return Ok(());
        }
        account_role::ActiveModel {
            account_id: Set(account.id),
            role: Set(spec.role),
            station_id: Set(spec.station_id),
            department_id: Set(spec.department_id),
            township_id: Set(spec.township_id),
            scope_key: Set(scope_key.clone()),
            granted_at: Set(self.now),
            granted_by: Set(None),
            ..Default::default()
        }
        .insert(self.db)
        .await?;
        let detail = Some(format!("{:?} {scope_key} by {}", spec.role, self.source()));
        audit::record(
            self.db,
            self.client,
            Entry::about(account, action::ROLE_GRANTED, detail),
        )
        .await
    }
}
