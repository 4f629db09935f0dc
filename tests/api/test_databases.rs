//! The harness touches only the PostgreSQL databases it created.
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

use crate::helpers::{
    create_marked_database, drop_stale_databases, marker_text, parse_marker, require_postgres, run,
    TestApp,
};

async fn exists(admin: &DatabaseConnection, name: &str) -> bool {
    admin
        .query_one(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT 1 AS one FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await
        .unwrap()
        .is_some()
}

async fn comment_of(admin: &DatabaseConnection, name: &str) -> Option<String> {
    admin
        .query_one(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await
        .unwrap()
        .and_then(|row| row.try_get::<Option<String>>("", "note").ok().flatten())
}

async fn create(admin: &DatabaseConnection, name: &str, comment: Option<&str>) {
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    if let Some(comment) = comment {
        admin
            .execute_unprepared(&format!(
                "COMMENT ON DATABASE \"{name}\" IS '{}'",
                comment.replace('\'', "''")
            ))
            .await
            .unwrap();
    }
}

/// A pid that provably ran no process now: one that just exited.
fn a_finished_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[tokio::test]
async fn the_stale_cleanup_drops_only_marked_leftovers_of_ended_runs() {
    let Some(admin_url) =
        require_postgres("the_stale_cleanup_drops_only_marked_leftovers_of_ended_runs")
    else {
        return;
    };
    let admin = Database::connect(&admin_url).await.unwrap();
    let ours = run();
    let tag = format!("{:08x}", rand::random::<u32>());
    let pid = std::process::id();
    let dead = a_finished_pid();

    // Named like test databases of old and new, but none of them provably a leftover
    // of this suite. (Their names keep a live pid where older harnesses look for one,
    // so that those leave them alone too while this test runs.)
    let canaries = [
        // No marker at all.
        (format!("smartnpc_canary_{pid}_{tag}"), None),
        (format!("smartnpc_99999_1_{tag}"), None),
        // Someone else's comment.
        (
            format!("smartnpc_test_{pid}_{tag}_theirs"),
            Some("smart-npc test data, keep".to_owned()),
        ),
        // Our marker, from another machine or an earlier boot: nothing can be proven.
        (
            format!("smartnpc_test_{pid}_{tag}_elsewhere"),
            Some(marker_text("1_elsewhere", dead, 1, "another-boot-id")),
        ),
        // Our marker, from a run that is still going (this very process, another run id).
        (
            format!("smartnpc_test_{pid}_{tag}_alive"),
            Some(marker_text("1_alive", ours.pid, ours.start, &ours.boot)),
        ),
    ];
    // Our marker, from a process of this boot that has ended: a leftover.
    let leftover = format!("smartnpc_test_{pid}_{tag}_leftover");
    for (name, comment) in &canaries {
        create(&admin, name, comment.as_deref()).await;
    }
    create(
        &admin,
        &leftover,
        Some(&marker_text("1_killed", dead, 1, &ours.boot)),
    )
    .await;

    let dropped = drop_stale_databases(&admin).await;

    assert!(dropped.contains(&leftover), "{dropped:?}");
    assert!(!exists(&admin, &leftover).await);
    for (name, _) in &canaries {
        assert!(!dropped.contains(name), "{name} was dropped");
        assert!(exists(&admin, name).await, "{name} is gone");
    }
    for (name, _) in &canaries {
        admin
            .execute_unprepared(&format!("DROP DATABASE \"{name}\""))
            .await
            .unwrap();
    }
    admin.close().await.unwrap();
}

/// The databases the harness makes carry this run's name and marker, and go with
/// their test.
#[tokio::test]
async fn test_databases_carry_the_runs_name_and_marker_and_are_dropped_after_the_test() {
    let Some(admin_url) = require_postgres(
        "test_databases_carry_the_runs_name_and_marker_and_are_dropped_after_the_test",
    ) else {
        return;
    };
    let app = TestApp::spawn().await;
    let row = app
        .db
        .query_one(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT current_database() AS name",
        ))
        .await
        .unwrap()
        .unwrap();
    let name: String = row.try_get("", "name").unwrap();
    assert!(
        name.starts_with(&format!("smartnpc_test_{}_", run().id)),
        "{name}"
    );
    let admin = Database::connect(&admin_url).await.unwrap();
    let marker = comment_of(&admin, &name)
        .await
        .and_then(|note| parse_marker(&note))
        .expect("marked");
    assert_eq!(marker.run, run().id);
    assert_eq!(marker.pid, std::process::id());
    drop(app);
    assert!(!exists(&admin, &name).await, "dropped with its test");

    // A database the harness creates by hand is marked the same way.
    let name = run().database("handmade");
    create_marked_database(&admin, &name, None).await;
    assert_eq!(
        comment_of(&admin, &name).await,
        Some(run().marker()),
        "{name}"
    );
    admin
        .execute_unprepared(&format!("DROP DATABASE \"{name}\""))
        .await
        .unwrap();
    admin.close().await.unwrap();
}
