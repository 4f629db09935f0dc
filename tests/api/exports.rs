//! The Excel exports (`GET /exports/<kind>.xlsx`), reopened by an independent reader
//! (openpyxl, `tests/xlsx/read.py` in `tests/xlsx/.venv`) and compared with the GraphQL
//! answers for the same scope and period; refused as the queries refuse.
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::fixtures::{binhe, station_elsewhere};
use crate::helpers::TestApp;

/// The Python of `tests/xlsx/.venv` (openpyxl, pypdf): CI must have it.
pub(crate) fn python(test: &str) -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xlsx/.venv/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI must create tests/xlsx/.venv with openpyxl (see .ci/run)");
    }
    crate::skips::skipped(
        test,
        "python3 -m venv tests/xlsx/.venv && tests/xlsx/.venv/bin/pip install -r tests/xlsx/requirements.txt",
    );
    None
}

/// GET an export: status, content type and body.
async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("export request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        status,
        content_type,
        response.bytes().await.expect("body").to_vec(),
    )
}

/// The export at `path`, read back by openpyxl: `{"sheets": [...]}`.
async fn workbook(python: &Path, app: &TestApp, path: &str, token: &str) -> Value {
    let (status, content_type, bytes) = get(app, path, Some(token)).await;
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&bytes));
    assert_eq!(
        content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let file = tempfile::Builder::new()
        .suffix(".xlsx")
        .tempfile()
        .expect("temp file");
    std::fs::write(file.path(), &bytes).expect("write");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xlsx/read.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .arg(file.path())
        .output()
        .await
        .expect("openpyxl runs");
    assert!(
        output.status.success(),
        "openpyxl: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let book: Value = serde_json::from_slice(&output.stdout).expect("JSON from read.py");
    for sheet in book["sheets"].as_array().expect("sheets") {
        assert_eq!(
            sheet["frozen"], "A2",
            "header row frozen: {}",
            sheet["name"]
        );
        assert_eq!(sheet["header_bold"], true, "{}", sheet["name"]);
        let widths = sheet["widths"].as_object().expect("widths");
        assert_eq!(
            widths.len(),
            sheet["header"].as_array().map_or(0, Vec::len),
            "every column has a width: {}",
            sheet["name"]
        );
    }
    book
}

fn sheet<'a>(book: &'a Value, name: &str) -> &'a Value {
    book["sheets"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("sheet {name} in {book}"))
}

fn rows(sheet: &Value) -> &Vec<Value> {
    sheet["rows"].as_array().expect("rows")
}

/// The column of `header` in `sheet`.
fn col(sheet: &Value, header: &str) -> usize {
    sheet["header"]
        .as_array()
        .and_then(|h| h.iter().position(|c| c == header))
        .unwrap_or_else(|| panic!("column {header} in {}", sheet["header"]))
}

fn rate(cell: &Value) -> f64 {
    cell["rate"]
        .as_f64()
        .unwrap_or_else(|| panic!("a percentage cell: {cell}"))
}

/// Every node of a ledger-like connection, page by page.
async fn all_items(app: &TestApp, token: &str, field: &str, arg: &str, id: &Value) -> Vec<Value> {
    let query = format!(
        "query($id: ID!, $after: String) {{ {field}({arg}: $id, filter: {{ from: \"2025-01-01\", to: \"2025-12-31\" }}, first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ trackingCode collectedAt }} }} }}"
    );
    let (mut out, mut after) = (Vec::new(), Value::Null);
    loop {
        let r = app
            .gql(&query)
            .vars(json!({ "id": id, "after": after }))
            .bearer(Some(token))
            .send()
            .await;
        let page = &r.data()[field];
        out.extend(page["nodes"].as_array().expect("nodes").iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// Tracking code and collection date (China time) of every item, in order.
fn codes_and_dates(items: &[Value]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|n| {
            let at = chrono::DateTime::parse_from_rfc3339(
                n["collectedAt"].as_str().expect("collectedAt"),
            )
            .expect("RFC 3339")
            .with_timezone(&smart_npc::domain::calendar::china());
            (
                n["trackingCode"].as_str().unwrap_or_default().to_owned(),
                at.date_naive().to_string(),
            )
        })
        .collect()
}

fn exported_codes_and_dates(sheet: &Value) -> Vec<(String, String)> {
    let (code, date) = (col(sheet, "受理编号"), col(sheet, "收集日期"));
    rows(sheet)
        .iter()
        .map(|r| {
            let day = r[date]["date"]
                .as_str()
                .unwrap_or_else(|| panic!("an Excel date: {}", r[date]));
            (
                r[code].as_str().unwrap_or_default().to_owned(),
                day.to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_station_ledger_and_a_department_inbox_list_what_graphql_lists() {
    let Some(python) = python("the_station_ledger_and_a_department_inbox_list_what_graphql_lists")
    else {
        return;
    };
    let app = TestApp::spawn_demo().await;
    let staff = app.token("staff").await;
    let (station, _) = binhe(&app).await;
    let path = format!(
        "/exports/station-ledger.xlsx?stationId={}&from=2025-01-01&to=2025-12-31",
        station.as_str().unwrap()
    );
    let book = workbook(&python, &app, &path, &staff).await;
    let ledger = sheet(&book, "站点台账");
    let expected =
        codes_and_dates(&all_items(&app, &staff, "stationLedger", "stationId", &station).await);
    assert!(expected.len() > 30, "the demo's 滨河 has a year of items");
    assert_eq!(exported_codes_and_dates(ledger), expected);

    let handler = app.token("handler").await;
    let me = app
        .gql("{ me { roles { department { id } } } }")
        .bearer(Some(&handler))
        .send()
        .await;
    let department = me.data()["me"]["roles"][0]["department"]["id"].clone();
    let path = format!(
        "/exports/department-inbox.xlsx?departmentId={}&from=2025-01-01&to=2025-12-31",
        department.as_str().unwrap()
    );
    let book = workbook(&python, &app, &path, &handler).await;
    let expected = codes_and_dates(
        &all_items(
            &app,
            &handler,
            "departmentInbox",
            "departmentId",
            &department,
        )
        .await,
    );
    assert!(!expected.is_empty());
    assert_eq!(exported_codes_and_dates(sheet(&book, "部门收件")), expected);
}

const FIGURES: &str = "itemsCollected itemsCompleted completionRate onTimeRate satisfactionRate averageHandlingHours overdueCount urgentCompleted suggestionsMade suggestionsAdopted rated";

/// A figure row of the export against `statistics` for the same scope.
#[track_caller]
fn assert_figures(sheet: &Value, row: &Value, graphql: &Value) {
    for (header, field) in [
        ("收集件数", "itemsCollected"),
        ("办结件数", "itemsCompleted"),
        ("超期件数", "overdueCount"),
        ("急难愁盼办结", "urgentCompleted"),
        ("意见建议", "suggestionsMade"),
        ("建议采纳", "suggestionsAdopted"),
        ("评价件数", "rated"),
    ] {
        assert_eq!(
            row[col(sheet, header)].as_f64(),
            graphql[field].as_f64(),
            "{header}: {row}"
        );
    }
    for (header, field) in [
        ("办结率", "completionRate"),
        ("按期办结率", "onTimeRate"),
        ("满意率", "satisfactionRate"),
    ] {
        let diff = rate(&row[col(sheet, header)]) - graphql[field].as_f64().unwrap();
        assert!(diff.abs() < 1e-9, "{header}: {row} vs {graphql}");
    }
    let hours = row[col(sheet, "平均办理时长(小时)")].as_f64().unwrap();
    assert!((hours - graphql["averageHandlingHours"].as_f64().unwrap()).abs() < 1e-6);
}

/// `statistics` for 2025-style inclusive dates, optionally of one township or station.
async fn statistics(app: &TestApp, token: &str, from: &str, to: &str, scope: Value) -> Value {
    let r = app
        .gql(&format!("query($f: Date!, $t: Date!, $w: ID, $s: ID) {{ statistics(from: $f, to: $t, townshipId: $w, stationId: $s) {{ {FIGURES} byCategory {{ itemsCollected itemsCompleted category {{ name }} }} }} }}"))
        .vars(json!({ "f": from, "t": to, "w": scope["township"], "s": scope["station"] }))
        .bearer(Some(token))
        .send()
        .await;
    r.data()["statistics"].clone()
}

#[tokio::test]
async fn statistics_by_township_station_category_and_month_agree_with_graphql() {
    let Some(python) =
        python("statistics_by_township_station_category_and_month_agree_with_graphql")
    else {
        return;
    };
    let app = TestApp::spawn_demo().await;
    let supervisor = app.token("supervisor").await;
    let book = workbook(
        &python,
        &app,
        "/exports/statistics.xlsx?from=2025-01-01&to=2025-12-31",
        &supervisor,
    )
    .await;
    let whole = statistics(&app, &supervisor, "2025-01-01", "2025-12-31", json!({})).await;
    let total = sheet(&book, "总计");
    assert_figures(total, &rows(total)[0], &whole);

    // Every category as byCategory answers, in its order.
    let categories = sheet(&book, "按类别");
    let expected: Vec<Value> = whole["byCategory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            json!([
                c["category"]["name"].as_str().unwrap_or("未分类"),
                c["itemsCollected"].as_i64(),
                c["itemsCompleted"].as_i64()
            ])
        })
        .collect();
    assert_eq!(rows(categories), &expected);

    // Each township's row is that township's statistics.
    let townships = app
        .gql("{ townships(first: 50) { nodes { id name } } }")
        .send()
        .await;
    let townships = townships.data()["townships"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let by_township = sheet(&book, "按乡镇");
    assert_eq!(rows(by_township).len(), townships.len());
    for t in townships.iter().take(3) {
        let row = rows(by_township)
            .iter()
            .find(|r| r[0] == t["name"])
            .expect("township row");
        let figures = statistics(
            &app,
            &supervisor,
            "2025-01-01",
            "2025-12-31",
            json!({ "township": t["id"] }),
        )
        .await;
        assert_figures(by_township, row, &figures);
    }

    // Each station's row is that station's statistics.
    let stations = app
        .gql("{ stations(first: 100) { totalCount nodes { id name } } }")
        .send()
        .await;
    let by_station = sheet(&book, "按站点");
    assert_eq!(
        rows(by_station).len() as u64,
        stations.data()["stations"]["totalCount"].as_u64().unwrap()
    );
    for s in stations.data()["stations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
    {
        let row = rows(by_station)
            .iter()
            .find(|r| r[0] == s["name"])
            .expect("station row");
        let figures = statistics(
            &app,
            &supervisor,
            "2025-01-01",
            "2025-12-31",
            json!({ "station": s["id"] }),
        )
        .await;
        assert_figures(by_station, row, &figures);
    }

    // The months partition the year.
    let sum = |sheet: &Value| -> f64 {
        let c = col(sheet, "收集件数");
        rows(sheet).iter().map(|r| r[c].as_f64().unwrap()).sum()
    };
    let months = sheet(&book, "按月");
    assert_eq!(rows(months).len(), 12);
    assert_eq!(rows(months)[2][0]["date"], "2025-03-01");
    assert_eq!(sum(months), whole["itemsCollected"].as_f64().unwrap());
    let march = statistics(&app, &supervisor, "2025-03-01", "2025-03-31", json!({})).await;
    assert_figures(months, &rows(months)[2], &march);
}

#[tokio::test]
async fn the_coverage_report_and_the_eight_ones_table_agree_with_graphql() {
    let Some(python) = python("the_coverage_report_and_the_eight_ones_table_agree_with_graphql")
    else {
        return;
    };
    let app = TestApp::spawn_demo().await;
    let supervisor = app.token("supervisor").await;
    let book = workbook(
        &python,
        &app,
        "/exports/coverage.xlsx?year=2025&month=3",
        &supervisor,
    )
    .await;
    let r = app
        .gql("{ coverageReport(year: 2025, month: 3) { deputy { code } actual expected } }")
        .bearer(Some(&supervisor))
        .send()
        .await;
    let expected: Vec<Value> = r.data()["coverageReport"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| json!([g["deputy"]["code"], g["actual"].as_i64(), g["expected"]]))
        .collect();
    let coverage = sheet(&book, "结对覆盖");
    let exported: Vec<Value> = rows(coverage)
        .iter()
        .map(|r| {
            json!([
                r[col(coverage, "代表编码")],
                r[col(coverage, "实际")],
                r[col(coverage, "要求")]
            ])
        })
        .collect();
    assert_eq!(exported, expected);

    let staff = app.token("staff").await;
    let (station, _) = binhe(&app).await;
    let s = station.as_str().unwrap();
    let month = workbook(
        &python,
        &app,
        &format!("/exports/compliance.xlsx?stationId={s}&year=2025&month=3"),
        &staff,
    )
    .await;
    let table = sheet(&month, "八个一(月)");
    let rollup = app
        .gql("query($s: ID!) { month: complianceRollup(stationId: $s, year: 2025, month: 3) { deputies fullyCompliant } year: complianceRollup(stationId: $s, year: 2025) { deputies fullyCompliant } }")
        .vars(json!({ "s": station }))
        .bearer(Some(&staff))
        .send()
        .await;
    let met = |sheet: &Value, header: &str| {
        rows(sheet)
            .iter()
            .filter(|r| r[col(sheet, header)] == "是")
            .count()
    };
    assert_eq!(
        rows(table).len() as u64,
        rollup.data()["month"]["deputies"].as_u64().unwrap()
    );
    assert!(rows(table).len() > 1);
    assert_eq!(
        met(table, "全部达标") as u64,
        rollup.data()["month"]["fullyCompliant"].as_u64().unwrap()
    );
    for row in rows(table) {
        let r = app
            .gql("query($c: String!) { deputyByCode(code: $c) { compliance(year: 2025, month: 3) { items { label count } residentHearings { count } fullyCompliant } } }")
            .vars(json!({ "c": row[col(table, "代表编码")] }))
            .bearer(Some(&staff))
            .send()
            .await;
        let c = &r.data()["deputyByCode"]["compliance"];
        for item in c["items"].as_array().unwrap() {
            let label = item["label"].as_str().unwrap();
            assert_eq!(
                row[col(table, label)].as_f64(),
                item["count"].as_f64(),
                "{label}: {row}"
            );
        }
        assert_eq!(
            row[col(table, "驻站代表听取群众反映")].as_f64(),
            c["residentHearings"]["count"].as_f64()
        );
        assert_eq!(
            row[col(table, "全部达标")] == "是",
            c["fullyCompliant"] == true
        );
    }

    let year = workbook(
        &python,
        &app,
        &format!("/exports/compliance.xlsx?stationId={s}&year=2025"),
        &staff,
    )
    .await;
    let table = sheet(&year, "八个一(年)");
    assert_eq!(
        rows(table).len() as u64,
        rollup.data()["year"]["deputies"].as_u64().unwrap()
    );
    assert_eq!(
        met(table, "全年达标") as u64,
        rollup.data()["year"]["fullyCompliant"].as_u64().unwrap()
    );
    assert_eq!(
        col(table, "12月"),
        13,
        "a past year has twelve month columns"
    );
}

/// What each refusal answers: status and code (and the field of a bad input).
async fn refused(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, Option<String>) {
    let (status, _, body) = get(app, path, token).await;
    let body: Value =
        serde_json::from_slice(&body).unwrap_or_else(|_| panic!("{path}: a JSON error"));
    let ext = &body["errors"][0]["extensions"];
    (
        status,
        ext["code"].as_str().unwrap_or_default().to_owned(),
        ext["field"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn exports_are_refused_out_of_scope_and_for_bad_parameters() {
    let app = TestApp::spawn_demo().await;
    let (binhe_station, binhe_township) = binhe(&app).await;
    let (elsewhere, _) = station_elsewhere(&app).await;
    let (staff, citizen, handler) = (
        app.token("staff").await,
        app.token("citizen").await,
        app.token("handler").await,
    );
    let (b, e) = (binhe_station.as_str().unwrap(), elsewhere.as_str().unwrap());
    let ledger = |s: &str| {
        format!("/exports/station-ledger.xlsx?stationId={s}&from=2025-01-01&to=2025-12-31")
    };

    assert_eq!(refused(&app, &ledger(b), None).await.0, 401);
    assert_eq!(
        refused(
            &app,
            "/exports/statistics.xlsx?from=2025-01-01&to=2025-12-31",
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(
        refused(&app, &ledger(b), Some(&citizen)).await,
        (403, "FORBIDDEN".into(), None)
    );
    assert_eq!(
        refused(&app, &ledger(e), Some(&staff)).await,
        (403, "FORBIDDEN".into(), None)
    );
    let missing = crate::fixtures::unknown(smart_npc::domain::node_id::NodeKind::Station);
    assert_eq!(
        refused(&app, &ledger(&missing), Some(&staff)).await,
        (404, "NOT_FOUND".into(), None)
    );
    let other_department =
        crate::fixtures::unknown(smart_npc::domain::node_id::NodeKind::Department);
    let inbox = format!("/exports/department-inbox.xlsx?departmentId={other_department}&from=2025-01-01&to=2025-01-31");
    assert_eq!(
        refused(&app, &inbox, Some(&handler)).await,
        (403, "FORBIDDEN".into(), None)
    );
    assert_eq!(
        refused(
            &app,
            "/exports/coverage.xlsx?year=2025&month=3",
            Some(&staff)
        )
        .await
        .0,
        403
    );
    let township = binhe_township.as_str().unwrap();
    let compliance = format!("/exports/compliance.xlsx?townshipId={township}&year=2025");
    assert_eq!(
        refused(&app, &compliance, Some(&staff)).await.0,
        403,
        "staff do not supervise the township"
    );

    let bad = |field: &str| (400, "BAD_USER_INPUT".to_owned(), Some(field.to_owned()));
    let cases = [
        (format!("/exports/station-ledger.xlsx?stationId={b}&from=2025-01-01&to=2026-01-02"), "to"),
        (format!("/exports/station-ledger.xlsx?stationId={b}&from=2025-02-01&to=2025-01-01"), "to"),
        (format!("/exports/station-ledger.xlsx?stationId={b}&from=2025-13-01&to=2025-12-31"), "from"),
        (format!("/exports/station-ledger.xlsx?stationId={b}&to=2025-12-31"), "from"),
        (format!("/exports/station-ledger.xlsx?stationId={township}&from=2025-01-01&to=2025-12-31"), "stationId"),
        (format!("/exports/station-ledger.xlsx?stationId={b}&stationId={b}&from=2025-01-01&to=2025-12-31"), "stationId"),
        (format!("/exports/station-ledger.xlsx?stationId={b}&from=2025-01-01&to=2025-12-31&limit=5"), "limit"),
        ("/exports/coverage.xlsx?year=2025&month=13".to_owned(), "month"),
        ("/exports/coverage.xlsx?year=twenty&month=3".to_owned(), "year"),
        (format!("/exports/compliance.xlsx?stationId={b}&year=1999"), "year"),
        (format!("/exports/compliance.xlsx?stationId={b}&townshipId={township}&year=2025"), "stationId"),
    ];
    for (path, field) in cases {
        assert_eq!(
            refused(&app, &path, Some(&staff)).await,
            bad(field),
            "{path}"
        );
    }
    assert_eq!(
        refused(&app, "/exports/passwords.xlsx", Some(&staff)).await,
        (404, "NOT_FOUND".into(), None)
    );
}
