//! The whole Smart NPC data model: organisation, deputies, pairings, activities,
//! opinion items (petitions) with their history, suggestions, stories, accounts and
//! the event outbox. Constraints live in the database, not only in the code.
use sea_orm_migration::prelude::*;

use crate::sql::run_all;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000001_create_schema"
    }
}

const UP: &[&str] = &[
    // ---------------------------------------------------------------- organisation
    r#"CREATE TABLE township (
        id {id},
        code VARCHAR(32) NOT NULL UNIQUE,
        name VARCHAR(64) NOT NULL UNIQUE,
        kind VARCHAR(16) NOT NULL CHECK (kind IN ('town', 'township', 'district')),
        sort_order INTEGER NOT NULL DEFAULT 0,
        created_at {ts} NOT NULL
    )"#,
    r#"CREATE TABLE station (
        id {id},
        code VARCHAR(32) NOT NULL UNIQUE,
        name VARCHAR(128) NOT NULL,
        kind VARCHAR(24) NOT NULL CHECK (kind IN ('liaison_station', 'service_point', 'service_post', 'demonstration_base')),
        township_id {fk_id} NOT NULL REFERENCES township (id) ON DELETE RESTRICT,
        parent_id {fk_id} REFERENCES station (id) ON DELETE SET NULL,
        is_brand BOOLEAN NOT NULL DEFAULT FALSE,
        brand_name VARCHAR(64),
        feature TEXT,
        address VARCHAR(255),
        reception_hours VARCHAR(128),
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        CONSTRAINT station_brand_named CHECK (is_brand = FALSE OR brand_name IS NOT NULL),
        CONSTRAINT station_name_per_township UNIQUE (township_id, name)
    )"#,
    "CREATE INDEX station_township_kind ON station (township_id, kind)",
    "CREATE INDEX station_kind ON station (kind, is_brand)",
    r#"CREATE TABLE grid (
        id {id},
        station_id {fk_id} NOT NULL REFERENCES station (id) ON DELETE CASCADE,
        name VARCHAR(64) NOT NULL,
        description TEXT,
        created_at {ts} NOT NULL,
        CONSTRAINT grid_name_per_station UNIQUE (station_id, name)
    )"#,
    r#"CREATE TABLE department (
        id {id},
        code VARCHAR(32) NOT NULL UNIQUE,
        name VARCHAR(128) NOT NULL UNIQUE,
        level VARCHAR(16) NOT NULL CHECK (level IN ('township', 'county')),
        township_id {fk_id} REFERENCES township (id) ON DELETE RESTRICT,
        phone VARCHAR(32),
        created_at {ts} NOT NULL,
        CONSTRAINT department_township_level CHECK ((level = 'township') = (township_id IS NOT NULL))
    )"#,
    "CREATE INDEX department_level ON department (level, township_id)",
    r#"CREATE TABLE special_committee (
        id {id},
        name VARCHAR(128) NOT NULL UNIQUE,
        professional_field VARCHAR(64) NOT NULL,
        created_at {ts} NOT NULL
    )"#,
    // ---------------------------------------------------------------- deputies
    r#"CREATE TABLE deputy (
        id {id},
        code VARCHAR(16) NOT NULL UNIQUE,
        name VARCHAR(64) NOT NULL,
        gender VARCHAR(8) NOT NULL CHECK (gender IN ('male', 'female')),
        level VARCHAR(16) NOT NULL CHECK (level IN ('national', 'provincial', 'municipal', 'county', 'township')),
        township_id {fk_id} REFERENCES township (id) ON DELETE SET NULL,
        is_leading_cadre BOOLEAN NOT NULL DEFAULT FALSE,
        term_status VARCHAR(16) NOT NULL CHECK (term_status IN ('first_term', 're_elected')),
        is_sc_member BOOLEAN NOT NULL DEFAULT FALSE,
        is_sc_leader BOOLEAN NOT NULL DEFAULT FALSE,
        professional_field VARCHAR(64),
        occupation VARCHAR(128),
        phone VARCHAR(20),
        bio TEXT,
        active BOOLEAN NOT NULL DEFAULT TRUE,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        CONSTRAINT deputy_code_shape CHECK (LENGTH(code) BETWEEN 6 AND 16)
    )"#,
    "CREATE INDEX deputy_level ON deputy (level)",
    "CREATE INDEX deputy_township ON deputy (township_id)",
    "CREATE INDEX deputy_name ON deputy (name)",
    r#"CREATE TABLE deputy_station (
        id {id},
        deputy_id {fk_id} NOT NULL REFERENCES deputy (id) ON DELETE CASCADE,
        station_id {fk_id} NOT NULL REFERENCES station (id) ON DELETE CASCADE,
        is_resident BOOLEAN NOT NULL DEFAULT TRUE,
        since {date} NOT NULL,
        until {date},
        created_at {ts} NOT NULL,
        CONSTRAINT deputy_station_once UNIQUE (deputy_id, station_id),
        CONSTRAINT deputy_station_period CHECK (until IS NULL OR until >= since)
    )"#,
    "CREATE INDEX deputy_station_station ON deputy_station (station_id, deputy_id)",
    r#"CREATE TABLE deputy_grid (
        id {id},
        deputy_id {fk_id} NOT NULL REFERENCES deputy (id) ON DELETE CASCADE,
        grid_id {fk_id} NOT NULL REFERENCES grid (id) ON DELETE CASCADE,
        created_at {ts} NOT NULL,
        CONSTRAINT deputy_grid_once UNIQUE (deputy_id, grid_id)
    )"#,
    "CREATE INDEX deputy_grid_grid ON deputy_grid (grid_id)",
    r#"CREATE TABLE liaison (
        id {id},
        station_id {fk_id} NOT NULL REFERENCES station (id) ON DELETE CASCADE,
        grid_id {fk_id} REFERENCES grid (id) ON DELETE SET NULL,
        name VARCHAR(64) NOT NULL,
        kind VARCHAR(16) NOT NULL CHECK (kind IN ('grid_worker', 'volunteer', 'community_police', 'property_staff', 'station_admin')),
        phone VARCHAR(20),
        active BOOLEAN NOT NULL DEFAULT TRUE,
        created_at {ts} NOT NULL
    )"#,
    "CREATE INDEX liaison_station ON liaison (station_id)",
    r#"CREATE TABLE committee_deputy (
        id {id},
        committee_id {fk_id} NOT NULL REFERENCES special_committee (id) ON DELETE CASCADE,
        deputy_id {fk_id} NOT NULL REFERENCES deputy (id) ON DELETE CASCADE,
        created_at {ts} NOT NULL,
        CONSTRAINT committee_deputy_once UNIQUE (committee_id, deputy_id)
    )"#,
    // A pairing joins a senior deputy with a junior deputy, or (standing-committee
    // leader coverage, 包联) a leader with a township. Ended pairings stay as history.
    r#"CREATE TABLE pairing (
        id {id},
        kind VARCHAR(32) NOT NULL CHECK (kind IN ('leader_grassroots', 'reelected_first_term', 'upper_lower', 'sc_member_grassroots', 'sc_leader_township')),
        senior_deputy_id {fk_id} NOT NULL REFERENCES deputy (id) ON DELETE CASCADE,
        junior_deputy_id {fk_id} REFERENCES deputy (id) ON DELETE CASCADE,
        township_id {fk_id} REFERENCES township (id) ON DELETE CASCADE,
        started_on {date} NOT NULL,
        ended_on {date},
        note TEXT,
        created_at {ts} NOT NULL,
        CONSTRAINT pairing_target CHECK (
            (kind = 'sc_leader_township' AND township_id IS NOT NULL AND junior_deputy_id IS NULL)
            OR (kind <> 'sc_leader_township' AND junior_deputy_id IS NOT NULL AND township_id IS NULL)),
        CONSTRAINT pairing_not_self CHECK (junior_deputy_id IS NULL OR junior_deputy_id <> senior_deputy_id),
        CONSTRAINT pairing_period CHECK (ended_on IS NULL OR ended_on >= started_on)
    )"#,
    "CREATE UNIQUE INDEX pairing_active_deputies ON pairing (kind, senior_deputy_id, junior_deputy_id) WHERE ended_on IS NULL AND junior_deputy_id IS NOT NULL",
    "CREATE UNIQUE INDEX pairing_active_township ON pairing (kind, senior_deputy_id, township_id) WHERE ended_on IS NULL AND township_id IS NOT NULL",
    "CREATE INDEX pairing_junior ON pairing (junior_deputy_id)",
    "CREATE INDEX pairing_senior ON pairing (senior_deputy_id)",
    // ---------------------------------------------------------------- accounts
    r#"CREATE TABLE account (
        id {id},
        login VARCHAR(64) NOT NULL UNIQUE,
        phone VARCHAR(20) UNIQUE,
        display_name VARCHAR(64) NOT NULL,
        password_hash VARCHAR(255) NOT NULL,
        deputy_id {fk_id} UNIQUE REFERENCES deputy (id) ON DELETE SET NULL,
        disabled BOOLEAN NOT NULL DEFAULT FALSE,
        created_at {ts} NOT NULL,
        password_changed_at {ts} NOT NULL
    )"#,
    // scope_key makes (account, role, scope) unique without relying on NULL semantics:
    // '*' for unscoped roles, 'station:12', 'department:3' or 'township:4' otherwise.
    r#"CREATE TABLE account_role (
        id {id},
        account_id {fk_id} NOT NULL REFERENCES account (id) ON DELETE CASCADE,
        role VARCHAR(24) NOT NULL CHECK (role IN ('citizen', 'deputy', 'station_staff', 'department_handler', 'supervisor', 'admin')),
        station_id {fk_id} REFERENCES station (id) ON DELETE CASCADE,
        department_id {fk_id} REFERENCES department (id) ON DELETE CASCADE,
        township_id {fk_id} REFERENCES township (id) ON DELETE CASCADE,
        scope_key VARCHAR(48) NOT NULL,
        granted_at {ts} NOT NULL,
        granted_by {fk_id} REFERENCES account (id) ON DELETE SET NULL,
        CONSTRAINT account_role_once UNIQUE (account_id, role, scope_key),
        CONSTRAINT account_role_scope CHECK (
            (role = 'station_staff' AND station_id IS NOT NULL AND department_id IS NULL AND township_id IS NULL)
            OR (role = 'department_handler' AND department_id IS NOT NULL AND station_id IS NULL AND township_id IS NULL)
            OR (role = 'supervisor' AND station_id IS NULL AND department_id IS NULL)
            OR (role IN ('citizen', 'deputy', 'admin') AND station_id IS NULL AND department_id IS NULL AND township_id IS NULL))
    )"#,
    r#"CREATE TABLE auth_session (
        id {id},
        account_id {fk_id} NOT NULL REFERENCES account (id) ON DELETE CASCADE,
        family_id VARCHAR(64) NOT NULL,
        refresh_token_hash VARCHAR(128) NOT NULL UNIQUE,
        created_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        rotated_at {ts},
        revoked_at {ts},
        revoked_reason VARCHAR(64),
        client_ip VARCHAR(64),
        user_agent VARCHAR(255)
    )"#,
    "CREATE INDEX auth_session_family ON auth_session (family_id)",
    "CREATE INDEX auth_session_account ON auth_session (account_id, revoked_at)",
    r#"CREATE TABLE audit_log (
        id {id},
        account_id {fk_id} REFERENCES account (id) ON DELETE SET NULL,
        login VARCHAR(64),
        action VARCHAR(48) NOT NULL,
        detail TEXT,
        client_ip VARCHAR(64),
        created_at {ts} NOT NULL
    )"#,
    "CREATE INDEX audit_log_created ON audit_log (created_at, id)",
    "CREATE INDEX audit_log_account ON audit_log (account_id, created_at)",
    // ---------------------------------------------------------------- activities
    r#"CREATE TABLE campaign (
        id {id},
        name VARCHAR(128) NOT NULL UNIQUE,
        description TEXT,
        starts_on {date} NOT NULL,
        ends_on {date},
        created_at {ts} NOT NULL,
        CONSTRAINT campaign_period CHECK (ends_on IS NULL OR ends_on >= starts_on)
    )"#,
    r#"CREATE TABLE activity (
        id {id},
        kind VARCHAR(24) NOT NULL CHECK (kind IN ('citizen_reception', 'station_activity', 'study_training', 'household_visit', 'inspection', 'research', 'diary_entry', 'livelihood_project', 'duty_report')),
        title VARCHAR(200) NOT NULL,
        occurred_on {date} NOT NULL,
        campaign_id {fk_id} REFERENCES campaign (id) ON DELETE SET NULL,
        is_joint BOOLEAN NOT NULL DEFAULT FALSE,
        citizens_heard INTEGER NOT NULL DEFAULT 0 CHECK (citizens_heard >= 0),
        notes TEXT,
        recorded_by {fk_id} REFERENCES account (id) ON DELETE SET NULL,
        created_at {ts} NOT NULL
    )"#,
    "CREATE INDEX activity_occurred ON activity (occurred_on, kind)",
    "CREATE INDEX activity_campaign ON activity (campaign_id)",
    r#"CREATE TABLE activity_participant (
        id {id},
        activity_id {fk_id} NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
        deputy_id {fk_id} NOT NULL REFERENCES deputy (id) ON DELETE CASCADE,
        CONSTRAINT activity_participant_once UNIQUE (activity_id, deputy_id)
    )"#,
    "CREATE INDEX activity_participant_deputy ON activity_participant (deputy_id, activity_id)",
    r#"CREATE TABLE activity_station (
        id {id},
        activity_id {fk_id} NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
        station_id {fk_id} NOT NULL REFERENCES station (id) ON DELETE CASCADE,
        CONSTRAINT activity_station_once UNIQUE (activity_id, station_id)
    )"#,
    "CREATE INDEX activity_station_station ON activity_station (station_id, activity_id)",
    // ---------------------------------------------------------------- opinion items
    r#"CREATE TABLE category (
        id {id},
        code VARCHAR(32) NOT NULL UNIQUE,
        name VARCHAR(64) NOT NULL UNIQUE,
        sort_order INTEGER NOT NULL DEFAULT 0,
        active BOOLEAN NOT NULL DEFAULT TRUE
    )"#,
    r#"CREATE TABLE petition (
        id {id},
        tracking_code VARCHAR(24) NOT NULL UNIQUE,
        follow_secret_hash VARCHAR(128),
        title VARCHAR(200) NOT NULL,
        content TEXT NOT NULL,
        channel VARCHAR(24) NOT NULL CHECK (channel IN ('station_reception', 'deputy_visit', 'app', 'qr_code', 'wechat')),
        state VARCHAR(16) NOT NULL CHECK (state IN ('submitted', 'registered', 'forwarded', 'accepted', 'resolved', 'closed', 'declined', 'merged')),
        submitter_account_id {fk_id} REFERENCES account (id) ON DELETE SET NULL,
        submitter_name VARCHAR(64),
        submitter_phone VARCHAR(20),
        deputy_id {fk_id} REFERENCES deputy (id) ON DELETE SET NULL,
        station_id {fk_id} REFERENCES station (id) ON DELETE SET NULL,
        township_id {fk_id} REFERENCES township (id) ON DELETE SET NULL,
        grid_id {fk_id} REFERENCES grid (id) ON DELETE SET NULL,
        category_id {fk_id} REFERENCES category (id) ON DELETE SET NULL,
        urgency VARCHAR(16) CHECK (urgency IN ('normal', 'urgent', 'critical')),
        handling_level VARCHAR(16) CHECK (handling_level IN ('station', 'township', 'county')),
        lead_department_id {fk_id} REFERENCES department (id) ON DELETE SET NULL,
        merged_into_id {fk_id} REFERENCES petition (id) ON DELETE RESTRICT,
        attachments TEXT NOT NULL DEFAULT '[]',
        deadline {ts},
        is_overdue BOOLEAN NOT NULL DEFAULT FALSE,
        escalation_level INTEGER NOT NULL DEFAULT 0 CHECK (escalation_level >= 0),
        urge_count INTEGER NOT NULL DEFAULT 0 CHECK (urge_count >= 0),
        round INTEGER NOT NULL DEFAULT 1 CHECK (round >= 1),
        result TEXT,
        decline_reason TEXT,
        satisfaction VARCHAR(24) CHECK (satisfaction IN ('satisfied', 'basically_satisfied', 'unsatisfied')),
        version INTEGER NOT NULL DEFAULT 1,
        collected_at {ts} NOT NULL,
        registered_at {ts},
        accepted_at {ts},
        resolved_at {ts},
        closed_at {ts},
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        CONSTRAINT petition_not_merged_into_self CHECK (merged_into_id IS NULL OR merged_into_id <> id),
        CONSTRAINT petition_merged_has_target CHECK (state <> 'merged' OR merged_into_id IS NOT NULL)
    )"#,
    "CREATE INDEX petition_station_state ON petition (station_id, state)",
    "CREATE INDEX petition_department_state ON petition (lead_department_id, state)",
    "CREATE INDEX petition_deputy ON petition (deputy_id, collected_at)",
    "CREATE INDEX petition_submitter ON petition (submitter_account_id, collected_at)",
    "CREATE INDEX petition_deadline ON petition (state, deadline)",
    "CREATE INDEX petition_collected ON petition (collected_at, township_id)",
    // Departments an item was forwarded to: one lead (主办) and any assisting (协办).
    r#"CREATE TABLE petition_department (
        id {id},
        petition_id {fk_id} NOT NULL REFERENCES petition (id) ON DELETE CASCADE,
        department_id {fk_id} NOT NULL REFERENCES department (id) ON DELETE RESTRICT,
        role VARCHAR(8) NOT NULL CHECK (role IN ('lead', 'assist')),
        status VARCHAR(16) NOT NULL CHECK (status IN ('forwarded', 'accepted', 'returned', 'reported')),
        report TEXT,
        return_reason TEXT,
        forwarded_at {ts} NOT NULL,
        accepted_at {ts},
        reported_at {ts},
        CONSTRAINT petition_department_once UNIQUE (petition_id, department_id)
    )"#,
    "CREATE INDEX petition_department_inbox ON petition_department (department_id, status)",
    "CREATE UNIQUE INDEX petition_department_one_lead ON petition_department (petition_id) WHERE role = 'lead' AND status <> 'returned'",
    // Immutable history: rows are only ever inserted.
    r#"CREATE TABLE petition_event (
        id {id},
        petition_id {fk_id} NOT NULL REFERENCES petition (id) ON DELETE CASCADE,
        action VARCHAR(32) NOT NULL,
        from_state VARCHAR(16) CHECK (from_state IN ('submitted', 'registered', 'forwarded', 'accepted', 'resolved', 'closed', 'declined', 'merged')),
        to_state VARCHAR(16) NOT NULL CHECK (to_state IN ('submitted', 'registered', 'forwarded', 'accepted', 'resolved', 'closed', 'declined', 'merged')),
        actor_account_id {fk_id} REFERENCES account (id) ON DELETE SET NULL,
        actor_role VARCHAR(24),
        department_id {fk_id} REFERENCES department (id) ON DELETE SET NULL,
        note TEXT,
        created_at {ts} NOT NULL
    )"#,
    "CREATE INDEX petition_event_petition ON petition_event (petition_id, id)",
    r#"CREATE TABLE petition_rating (
        id {id},
        petition_id {fk_id} NOT NULL REFERENCES petition (id) ON DELETE CASCADE,
        round INTEGER NOT NULL CHECK (round >= 1),
        rating VARCHAR(24) NOT NULL CHECK (rating IN ('satisfied', 'basically_satisfied', 'unsatisfied')),
        comment TEXT,
        created_at {ts} NOT NULL,
        CONSTRAINT petition_rating_once_per_round UNIQUE (petition_id, round)
    )"#,
    r#"CREATE TABLE suggestion (
        id {id},
        deputy_id {fk_id} NOT NULL REFERENCES deputy (id) ON DELETE CASCADE,
        department_id {fk_id} REFERENCES department (id) ON DELETE SET NULL,
        station_id {fk_id} REFERENCES station (id) ON DELETE SET NULL,
        title VARCHAR(200) NOT NULL,
        content TEXT NOT NULL,
        status VARCHAR(16) NOT NULL CHECK (status IN ('submitted', 'answered')),
        adoption VARCHAR(16) CHECK (adoption IN ('adopted', 'partly_adopted', 'not_adopted')),
        answer TEXT,
        submitted_at {ts} NOT NULL,
        answered_at {ts},
        CONSTRAINT suggestion_answered CHECK ((status = 'answered') = (adoption IS NOT NULL)),
        CONSTRAINT suggestion_answered_dated CHECK ((status = 'answered') = (answered_at IS NOT NULL))
    )"#,
    "CREATE INDEX suggestion_deputy ON suggestion (deputy_id, submitted_at)",
    "CREATE INDEX suggestion_department ON suggestion (department_id, status)",
    "CREATE INDEX suggestion_submitted ON suggestion (submitted_at)",
    // ---------------------------------------------------------------- showcase
    r#"CREATE TABLE story (
        id {id},
        deputy_id {fk_id} NOT NULL REFERENCES deputy (id) ON DELETE CASCADE,
        author_account_id {fk_id} REFERENCES account (id) ON DELETE SET NULL,
        station_id {fk_id} REFERENCES station (id) ON DELETE SET NULL,
        township_id {fk_id} REFERENCES township (id) ON DELETE SET NULL,
        title VARCHAR(200) NOT NULL,
        body TEXT NOT NULL,
        cover_url VARCHAR(500),
        status VARCHAR(16) NOT NULL CHECK (status IN ('draft', 'submitted', 'published', 'returned')),
        return_reason TEXT,
        published_at {ts},
        -- Feed order: the outbox sequence of the publishing event (unique, monotonic).
        published_seq {fk_id} UNIQUE,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        CONSTRAINT story_published_dated CHECK ((status = 'published') = (published_at IS NOT NULL)),
        CONSTRAINT story_published_ordered CHECK ((status = 'published') = (published_seq IS NOT NULL))
    )"#,
    "CREATE INDEX story_feed ON story (status, published_seq)",
    "CREATE INDEX story_station ON story (station_id, status)",
    "CREATE INDEX story_deputy ON story (deputy_id, status)",
    // ---------------------------------------------------------------- WeChat channel
    // A follower of the official account, bound to the deputy whose QR code they
    // scanned last (subscribe with qrscene_<code>, or SCAN).
    r#"CREATE TABLE wechat_follower (
        id {id},
        open_id VARCHAR(64) NOT NULL UNIQUE,
        deputy_id {fk_id} REFERENCES deputy (id) ON DELETE SET NULL,
        subscribed BOOLEAN NOT NULL DEFAULT TRUE,
        bound_at {ts},
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )"#,
    // Every inbound delivery once: WeChat retries, and a retry gets the same reply.
    r#"CREATE TABLE wechat_delivery (
        id {id},
        dedupe_key VARCHAR(160) NOT NULL UNIQUE,
        open_id VARCHAR(64) NOT NULL,
        petition_id {fk_id} REFERENCES petition (id) ON DELETE SET NULL,
        reply TEXT,
        created_at {ts} NOT NULL
    )"#,
    "CREATE INDEX wechat_delivery_open_id ON wechat_delivery (open_id, petition_id)",
    // ---------------------------------------------------------------- live updates
    // The outbox: written in the same transaction as the change it announces; the
    // relay publishes rows in `seq` order and marks them published.
    r#"CREATE TABLE outbox_event (
        seq {id},
        topic VARCHAR(32) NOT NULL,
        kind VARCHAR(48) NOT NULL,
        petition_id {fk_id},
        station_id {fk_id},
        township_id {fk_id},
        department_id {fk_id},
        account_id {fk_id},
        payload TEXT NOT NULL,
        created_at {ts} NOT NULL,
        published_at {ts}
    )"#,
    "CREATE INDEX outbox_event_unpublished ON outbox_event (published_at, seq)",
    "CREATE INDEX outbox_event_topic ON outbox_event (topic, seq)",
];

const TABLES_IN_DROP_ORDER: &[&str] = &[
    "outbox_event",
    "wechat_delivery",
    "wechat_follower",
    "story",
    "suggestion",
    "petition_rating",
    "petition_event",
    "petition_department",
    "petition",
    "category",
    "audit_log",
    "auth_session",
    "account_role",
    "account",
    "activity_station",
    "activity_participant",
    "activity",
    "campaign",
    "pairing",
    "committee_deputy",
    "liaison",
    "deputy_grid",
    "deputy_station",
    "deputy",
    "special_committee",
    "department",
    "grid",
    "station",
    "township",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drops: Vec<String> = TABLES_IN_DROP_ORDER
            .iter()
            .map(|t| format!("DROP TABLE IF EXISTS {t}"))
            .collect();
        let drops: Vec<&str> = drops.iter().map(String::as_str).collect();
        run_all(manager, &drops).await
    }
}
