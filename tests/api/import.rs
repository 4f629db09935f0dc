//! `smart-npc import [--dry-run] <file or folder>`, run as an operator runs it, against
//! the database of a running app, and read back through GraphQL.
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{json, Value};
use tokio::process::Command;

use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_smart-npc");

fn demo_files() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/import/demo")
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn import(app: &TestApp, args: &[&str]) -> Run {
    let output = Command::new(BIN)
        .env("DATABASE_URL", &app.database_url)
        .env_remove("REDIS_URL")
        .env("RUST_LOG", "warn")
        .arg("import")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run smart-npc import");
    Run {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn import_ok(app: &TestApp, args: &[&str]) -> Run {
    let run = import(app, args).await;
    assert!(run.ok, "import failed:\n{}\n{}", run.stdout, run.stderr);
    run
}

/// The one-time code the import printed for `login`.
fn code_for(run: &Run, login: &str) -> String {
    run.stdout
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix("设置密码码 ")?;
            let (who, rest) = rest.split_once(' ')?;
            (who == login).then(|| rest.split(' ').next().unwrap_or_default().to_owned())
        })
        .unwrap_or_else(|| panic!("no code for {login}:\n{}", run.stdout))
}

async fn set_password(app: &TestApp, login: &str, code: &str, password: &str) -> GqlResponse {
    app.gql("mutation($l: String!, $c: String!, $p: String!) { setPasswordWithCode(login: $l, code: $c, newPassword: $p) }")
        .vars(json!({ "l": login, "c": code, "p": password }))
        .send()
        .await
}

/// An admin token on an app whose admin was imported: the code sets the password.
async fn imported_admin_token(app: &TestApp, run: &Run) -> String {
    let code = code_for(run, "admin");
    let set = set_password(app, "admin", &code, DEMO_PASSWORD).await;
    assert_eq!(
        set.data()["setPasswordWithCode"],
        json!(true),
        "{:?}",
        set.body
    );
    app.token("admin").await
}

/// Every node of a connection at `path` (a root field), page by page.
async fn all_nodes(app: &TestApp, token: &str, field: &str, selection: &str) -> Vec<Value> {
    all_nodes_with(app, token, field, "", selection).await
}

/// [`all_nodes`] with more arguments (`args`, each followed by a comma).
async fn all_nodes_with(
    app: &TestApp,
    token: &str,
    field: &str,
    args: &str,
    selection: &str,
) -> Vec<Value> {
    // Pages small enough for the complexity bound with a station's relations.
    let query = format!(
        "query($after: String) {{ {field}({args}first: 10, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} }} }}"
    );
    let mut nodes = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .gql(&query)
            .vars(json!({ "after": after }))
            .bearer(Some(token))
            .send()
            .await;
        let connection = &page.data()[field];
        nodes.extend(
            connection["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .cloned(),
        );
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            return nodes;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

const STATION: &str = "code name kind isBrand brandName feature address receptionHours location { latitude longitude } township { code } parent { code } grids(first: 20) { nodes { name description deputies(first: 20) { nodes { code } } } } residentDeputies(first: 20) { nodes { code } } liaisons(first: 40) { nodes { name kind phone grid { name } } }";
const DEPUTY: &str = "code name gender level isLeadingCadre termStatus isStandingCommitteeMember isStandingCommitteeLeader professionalField occupation phone township { code }";
const ACCOUNT: &str =
    "login displayName phone disabled deputy { code } roles { role station { code } department { code } township { code } }";

const PAIRING: &str =
    "kind senior { code } junior { code } township { code } startedOn endedOn active note";

/// Every pairing (ended ones too), in a stable order: ids may differ.
async fn pairings(app: &TestApp, token: &str) -> Vec<Value> {
    let mut found = all_nodes_with(app, token, "pairings", "activeOnly: false, ", PAIRING).await;
    found.sort_by_key(|p| p.to_string());
    found
}

/// The organisation as an admin reads it through GraphQL (no ids: they may differ).
async fn organisation(app: &TestApp, token: &str) -> Value {
    let singles = app
        .gql("{ categories { code name } departments(first: 100) { nodes { code name level township { code } } } specialCommittees { code name professionalField members { code } } }")
        .bearer(Some(token))
        .send()
        .await;
    json!({
        "committees": singles.data()["specialCommittees"],
        "pairings": pairings(app, token).await,
        "townships": all_nodes(app, token, "townships", "code name kind").await,
        "stations": all_nodes(app, token, "stations", STATION).await,
        "deputies": all_nodes(app, token, "deputies", DEPUTY).await,
        "accounts": all_nodes(app, token, "accounts", ACCOUNT).await,
        "categories": singles.data()["categories"],
        "departments": singles.data()["departments"]["nodes"],
    })
}

#[tokio::test]
async fn the_demo_files_import_into_the_demo_organisation() {
    let demo = TestApp::spawn_demo().await;
    let imported = TestApp::spawn().await;
    let run = import_ok(&imported, &[demo_files().to_str().unwrap()]).await;
    assert!(run.stderr.contains("imported:"), "{}", run.stderr);
    let token = imported_admin_token(&imported, &run).await;
    let expected = organisation(&demo, &demo.token("admin").await).await;
    let found = organisation(&imported, &token).await;
    assert_eq!(expected["stations"].as_array().map(Vec::len), Some(72));
    // Every committee has members and both coverage kinds are there, so an ignored
    // sheet shows as a difference.
    let committees = expected["committees"].as_array().expect("committees");
    assert_eq!(committees.len(), 10);
    assert!(committees
        .iter()
        .all(|c| !c["members"].as_array().expect("members").is_empty()));
    for kind in ["SC_MEMBER_GRASSROOTS", "SC_LEADER_TOWNSHIP", "UPPER_LOWER"] {
        assert!(
            expected["pairings"]
                .as_array()
                .expect("pairings")
                .iter()
                .any(|p| p["kind"] == kind),
            "no {kind} pairing"
        );
    }
    for part in [
        "townships",
        "departments",
        "categories",
        "stations",
        "deputies",
        "accounts",
        "committees",
        "pairings",
    ] {
        assert_eq!(found[part], expected[part], "{part} differ");
    }
}

#[tokio::test]
async fn importing_the_same_files_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let dir = demo_files();
    let first = import_ok(&app, &[dir.to_str().unwrap()]).await;
    assert!(first.stdout.contains("新增 站点 binhe"), "{}", first.stdout);
    let again = import_ok(&app, &[dir.to_str().unwrap()]).await;
    assert!(
        !again.stdout.contains("新增") && !again.stdout.contains("更新"),
        "{}",
        again.stdout
    );
    assert!(
        again.stderr.contains("nothing to import"),
        "{}",
        again.stderr
    );
    // No second code either: the first one still stands.
    assert!(!again.stdout.contains("设置密码码"), "{}", again.stdout);
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write file");
}

#[tokio::test]
async fn a_later_file_updates_changed_rows_and_says_what_changed() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "townships.csv",
        "code,name,kind\nyixing,义兴镇,town\nmafang,马坊乡,township\n",
    );
    write(
        dir.path(),
        "stations.csv",
        "编码,名称,乡镇编码,类型\nyixing-1,义兴镇联络站,yixing,联络站\n",
    );
    let run = import_ok(&app, &[dir.path().to_str().unwrap()]).await;
    assert_eq!(
        run.stdout.lines().filter(|l| l.starts_with("新增")).count(),
        3,
        "{}",
        run.stdout
    );

    let later = tempfile::tempdir().unwrap();
    write(
        later.path(),
        "乡镇.csv",
        "编码,名称,类型,排序\nyixing,义兴镇,镇,0\nmafang,马坊镇,镇,1\n",
    );
    write(
        later.path(),
        "站点.csv",
        "编码,名称,乡镇编码,类型,品牌名称\nyixing-1,义兴镇联络站,yixing,联络站,义兴议事厅\nmafang-1,马坊服务点,mafang,代表服务点,\n",
    );
    let run = import_ok(&app, &[later.path().to_str().unwrap()]).await;
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            "更新 乡镇 mafang: 名称、类型",
            "更新 站点 yixing-1: 品牌名称",
            "新增 站点 mafang-1",
        ],
        "{}",
        run.stdout
    );
    let read = app
        .gql("{ townships { nodes { code name kind } } stations(brand: true) { nodes { code brandName } } }")
        .send()
        .await;
    assert_eq!(
        read.data()["townships"]["nodes"][1],
        json!({ "code": "mafang", "name": "马坊镇", "kind": "TOWN" })
    );
    assert_eq!(
        read.data()["stations"]["nodes"],
        json!([{ "code": "yixing-1", "brandName": "义兴议事厅" }])
    );
}

#[tokio::test]
async fn a_changed_committee_or_pairing_is_reported_and_written() {
    let app = TestApp::spawn().await;
    import_ok(&app, &[demo_files().to_str().unwrap()]).await;
    let pairings = std::fs::read_to_string(demo_files().join("13-pairings.csv")).unwrap();
    let mut lines = pairings.lines();
    let header = lines.next().unwrap();
    // The first pairing ends; the columns: kind, senior, junior, township, started, ended, note.
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    let ended = format!(
        "{}\n{},{},{},{},{},2025-06-30,调任\n",
        header, first[0], first[1], first[2], first[3], first[4]
    );
    let later = tempfile::tempdir().unwrap();
    write(later.path(), "结对.csv", &ended);
    write(
        later.path(),
        "committees.csv",
        "code,name,field\nfazhi,和顺县人大法治委员会,法律\nxinfang,和顺县人大常委会信访工作委员会,社会建设\n",
    );
    write(
        later.path(),
        "委员会成员.csv",
        &format!("委员会编码,代表编码\nxinfang,{}\n", first[1]),
    );
    let run = import_ok(&app, &[later.path().to_str().unwrap()]).await;
    let key = format!("sc_member_grassroots:{}>{}", first[1], first[2]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            "更新 专门委员会 fazhi: 名称".to_owned(),
            "新增 专门委员会 xinfang".to_owned(),
            format!("新增 委员会成员 {}@xinfang", first[1]),
            format!("更新 结对 {key}: 结束日期、备注"),
        ],
        "{}",
        run.stdout
    );
    let read = app
        .gql("{ specialCommittees { code name members { code } } }")
        .send()
        .await;
    let committees = read.data()["specialCommittees"].as_array().unwrap().clone();
    let fazhi = committees.iter().find(|c| c["code"] == "fazhi").unwrap();
    assert_eq!(fazhi["name"], "和顺县人大法治委员会");
    let xinfang = committees.iter().find(|c| c["code"] == "xinfang").unwrap();
    assert_eq!(xinfang["members"], json!([{ "code": first[1] }]));
    let ended = app
        .gql("{ pairings(kind: SC_MEMBER_GRASSROOTS, activeOnly: false, first: 100) { nodes { senior { code } junior { code } endedOn note } } }")
        .send()
        .await;
    let nodes = ended.data()["pairings"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let pairing = nodes
        .iter()
        .find(|p| p["senior"]["code"] == first[1] && p["junior"]["code"] == first[2])
        .expect("the pairing");
    assert_eq!(
        (&pairing["endedOn"], &pairing["note"]),
        (&json!("2025-06-30"), &json!("调任"))
    );
    // The same file again changes nothing.
    let again = import_ok(&app, &[later.path().to_str().unwrap()]).await;
    assert!(again.stdout.trim().is_empty(), "{}", again.stdout);
}

#[tokio::test]
async fn a_pairing_that_does_not_fit_its_kind_is_refused() {
    let app = TestApp::spawn().await;
    import_ok(&app, &[demo_files().to_str().unwrap()]).await;
    let deputies = std::fs::read_to_string(demo_files().join("06-deputies.csv")).unwrap();
    // A national deputy (the first row) is no standing-committee member.
    let national = deputies.lines().nth(1).unwrap().split(',').next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pairings.csv",
        &format!("类型,联系代表编码,包联乡镇编码,起始日期\n常委会领导包联乡镇,{national},yixing,2025-01-01\n常委会领导包联乡镇,{national},nowhere,2025-01-01\n"),
    );
    let run = import(&app, &[dir.path().to_str().unwrap()]).await;
    assert!(!run.ok);
    let errors: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("错误"))
        .collect();
    assert_eq!(errors.len(), 3, "{}", run.stdout);
    assert!(
        errors[0].starts_with("错误 pairings 第2行 [联系代表编码]: "),
        "{}",
        run.stdout
    );
    assert!(errors[0].contains("常委会领导"), "{}", run.stdout);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("第3行 [包联乡镇编码]") && e.contains("nowhere")),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_file_with_any_bad_row_is_refused_whole_with_every_problem_listed() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "乡镇.csv",
        "编码,名称,类型\nyixing,义兴镇,镇\nmafang,马坊镇,县城\n",
    );
    write(
        dir.path(),
        "代表.csv",
        "代表编码,姓名,性别,层级,乡镇编码,手机\nABCDEFGH,张三,男,县,nowhere,13512345678\nABCDEFGH,李四,女,县,yixing,12345\n",
    );
    let run = import(&app, &[dir.path().to_str().unwrap()]).await;
    assert!(!run.ok);
    let problems: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        problems,
        vec![
            "错误 乡镇 第3行 [类型]: 取值须为镇、乡、城区之一",
            "错误 代表 第3行 [手机]: 手机号码格式不正确",
        ],
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("未写入任何数据"), "{}", run.stderr);
    // Once the cells parse, references and repeated keys are checked, still writing nothing.
    write(dir.path(), "乡镇.csv", "编码,名称,类型\nyixing,义兴镇,镇\n");
    write(
        dir.path(),
        "代表.csv",
        "代表编码,姓名,性别,层级,乡镇编码\nABCDEFGH,张三,男,县,nowhere\nABCDEFGH,李四,女,县,yixing\n",
    );
    let run = import(&app, &[dir.path().to_str().unwrap()]).await;
    assert!(!run.ok);
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        vec![
            "错误 代表 第2行 [乡镇编码]: “nowhere”不存在（文件和数据库中都没有）",
            "错误 代表 第3行 [代表编码]: 与第2行重复（ABCDEFGH）",
        ]
    );
    let count = app.gql("{ townships { totalCount } }").send().await;
    assert_eq!(
        count.data()["townships"]["totalCount"],
        json!(0),
        "nothing stored"
    );
}

#[tokio::test]
async fn a_dry_run_prints_the_changes_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let run = import_ok(&app, &["--dry-run", demo_files().to_str().unwrap()]).await;
    assert!(run.stdout.contains("新增 乡镇"), "{}", run.stdout);
    assert!(!run.stdout.contains("设置密码码"), "{}", run.stdout);
    assert!(run.stderr.contains("dry run"), "{}", run.stderr);
    let count = app
        .gql("{ townships { totalCount } stations { totalCount } }")
        .send()
        .await;
    assert_eq!(count.data()["townships"]["totalCount"], json!(0));
    assert_eq!(count.data()["stations"]["totalCount"], json!(0));
}

/// A sheet's name, header and rows of text.
type Sheet<'a> = (&'a str, &'a [&'a str], &'a [&'a [&'a str]]);

/// A workbook with a sheet per kind, as Excel writes it: numbers typed as numbers,
/// dates as dates.
fn workbook(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let rows: [Sheet; 4] = [
        (
            "乡镇",
            &["编码 code", "名称 name", "类型 kind"],
            &[&["yixing", "义兴镇", "镇"]],
        ),
        (
            "stations",
            &["code", "name", "township", "kind"],
            &[&["yixing-1", "义兴镇联络站", "yixing", "liaison_station"]],
        ),
        (
            "代表",
            &["代表编码", "姓名", "性别", "层级", "乡镇编码"],
            &[&["ABCDEFGH", "张三", "男", "县", "yixing"]],
        ),
        (
            "驻站代表",
            &["代表编码", "站点编码", "起始日期"],
            &[&["ABCDEFGH", "yixing-1", ""]],
        ),
    ];
    for (name, headers, data) in rows {
        let sheet = book.add_worksheet().set_name(name).unwrap();
        for (c, header) in headers.iter().enumerate() {
            sheet.write_string(0, c as u16, *header).unwrap();
        }
        for (r, row) in data.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                sheet.write_string(r as u32 + 1, c as u16, *cell).unwrap();
            }
        }
        if name == "驻站代表" {
            let since = ExcelDateTime::from_ymd(2022, 1, 5).unwrap();
            sheet
                .write_datetime_with_format(1, 2, &since, &date)
                .unwrap();
        }
    }
    let accounts = book.add_worksheet().set_name("账号").unwrap();
    for (c, header) in ["登录名", "显示名称", "手机", "角色", "站点编码"]
        .iter()
        .enumerate()
    {
        accounts.write_string(0, c as u16, *header).unwrap();
    }
    for (c, cell) in ["liu", "刘联络员"].iter().enumerate() {
        accounts.write_string(1, c as u16, *cell).unwrap();
    }
    accounts.write_number(1, 2, 13912345678.0).unwrap();
    accounts.write_string(1, 3, "站点工作人员").unwrap();
    accounts.write_string(1, 4, "yixing-1").unwrap();
    book.save(path).unwrap();
}

#[tokio::test]
async fn a_workbook_imports_with_dates_numbers_and_a_staff_account() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("county.xlsx");
    workbook(&file);
    let run = import_ok(&app, &[file.to_str().unwrap()]).await;
    let code = code_for(&run, "liu");
    // No password opens the account before its code is used.
    let before = app.sign_in("liu", DEMO_PASSWORD).await;
    assert_eq!(
        before.error_code(),
        Some("UNAUTHENTICATED"),
        "{:?}",
        before.body
    );
    let set = set_password(&app, "liu", &code, DEMO_PASSWORD).await;
    assert_eq!(
        set.data()["setPasswordWithCode"],
        json!(true),
        "{:?}",
        set.body
    );
    let token = app.token("liu").await;
    let me = app
        .gql("{ me { login phone roles { role station { code residentDeputies { nodes { code } } } } } }")
        .bearer(Some(&token))
        .send()
        .await;
    assert_eq!(
        me.data()["me"],
        json!({ "login": "liu", "phone": "13912345678", "roles": [{ "role": "STATION_STAFF", "station": { "code": "yixing-1", "residentDeputies": { "nodes": [{ "code": "ABCDEFGH" }] } } }] })
    );
    let residents = dir.path().join("later.xlsx");
    workbook(&residents);
    let again = import_ok(&app, &[residents.to_str().unwrap()]).await;
    assert!(
        again.stderr.contains("nothing to import: 5 rows unchanged"),
        "{}",
        again.stderr
    );
}

#[tokio::test]
async fn a_set_password_code_works_once_and_only_for_its_login() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "账号.csv",
        "登录名,显示名称,角色\nchen,陈督办,督办员\nzhao,赵督办,督办员\n",
    );
    let run = import_ok(&app, &[dir.path().to_str().unwrap()]).await;
    let (chen, zhao) = (code_for(&run, "chen"), code_for(&run, "zhao"));
    assert_ne!(chen, zhao);
    let crossed = set_password(&app, "chen", &zhao, DEMO_PASSWORD).await;
    assert_eq!(
        crossed.error_code(),
        Some("BAD_USER_INPUT"),
        "{:?}",
        crossed.body
    );
    let weak = set_password(&app, "chen", &chen, "short").await;
    assert_eq!(weak.error_code(), Some("BAD_USER_INPUT"), "{:?}", weak.body);
    let typed = chen.to_lowercase().replace('-', " ");
    let set = set_password(&app, "chen", &typed, DEMO_PASSWORD).await;
    assert_eq!(
        set.data()["setPasswordWithCode"],
        json!(true),
        "{:?}",
        set.body
    );
    let again = set_password(&app, "chen", &chen, "Another-pass-2026").await;
    assert_eq!(
        again.error_code(),
        Some("BAD_USER_INPUT"),
        "{:?}",
        again.body
    );
    assert!(app.sign_in("chen", DEMO_PASSWORD).await.body["errors"].is_null());
}

#[tokio::test]
async fn templates_download_and_import_as_empty_files() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/import/templates/all.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = response.bytes().await.unwrap();
    let sheets = smart_npc::domain::import::read::xlsx("all.xlsx", &bytes).expect("a workbook");
    let names: Vec<&str> = sheets.iter().map(|s| s.sheet.as_str()).collect();
    assert_eq!(
        names,
        [
            "乡镇",
            "部门",
            "分类",
            "站点",
            "网格",
            "代表",
            "驻站代表",
            "网格联系",
            "联络员",
            "账号",
            "专门委员会",
            "委员会成员",
            "结对"
        ]
    );
    assert_eq!(sheets[3].headers[..2], ["编码 code", "名称 name"]);
    // An empty template is a valid import that changes nothing.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let run = import_ok(&app, &[file.to_str().unwrap()]).await;
    assert!(
        run.stderr.contains("nothing to import: 0 rows unchanged"),
        "{}",
        run.stderr
    );
    let one = app
        .client
        .get(app.url("/import/templates/stations.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    for kind in ["committees", "committee_members", "pairings"] {
        let response = app
            .client
            .get(app.url(&format!("/import/templates/{kind}.xlsx")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{kind}");
    }
    let missing = app
        .client
        .get(app.url("/import/templates/passwords.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn station_coordinates_are_checked_and_gcj02_ones_converted() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "乡镇.csv", "编码,名称,类型\nyixing,义兴镇,镇\n");
    write(
        dir.path(),
        "站点.csv",
        "编码,名称,乡镇编码,类型,纬度,经度,坐标系\n\
         a1,甲站,yixing,联络站,37.33,,\n\
         a2,乙站,yixing,代表服务点,95,113.5,\n\
         a3,丙站,yixing,代表服务岗,48.85,2.35,GCJ-02\n\
         a4,丁站,yixing,代表服务岗,37.3,113.5,火星\n",
    );
    let run = import(&app, &[dir.path().to_str().unwrap()]).await;
    assert!(!run.ok);
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        vec![
            "错误 站点 第2行 [经度]: 纬度和经度须同时填写",
            "错误 站点 第3行 [纬度]: 纬度须在-90到90之间、经度须在-180到180之间",
            "错误 站点 第4行 [坐标系]: GCJ-02坐标仅适用于中国大陆",
            "错误 站点 第5行 [坐标系]: 取值须为WGS-84、GCJ-02之一",
        ],
        "{}",
        run.stdout
    );
    // Beijing railway station's published pair: GCJ-02 (39.90245, 116.42703) is
    // WGS-84 (39.90105, 116.42079) to ±1e-5°; WGS-84 is kept as given.
    write(
        dir.path(),
        "站点.csv",
        "编码,名称,乡镇编码,类型,纬度,经度,坐标系\n\
         a1,甲站,yixing,联络站,39.90245,116.42703,GCJ-02\n\
         a2,乙站,yixing,代表服务点,37.3312345,113.5712345,\n\
         a3,丙站,yixing,代表服务岗,,,\n",
    );
    import_ok(&app, &[dir.path().to_str().unwrap()]).await;
    let read = app
        .gql("{ stations(first: 10) { nodes { code location { latitude longitude } } } }")
        .send()
        .await;
    let nodes = read.data()["stations"]["nodes"].as_array().unwrap().clone();
    let gcj = &nodes[0]["location"];
    assert!(
        (gcj["latitude"].as_f64().unwrap() - 39.90105).abs() <= 1.5e-5,
        "{gcj}"
    );
    assert!(
        (gcj["longitude"].as_f64().unwrap() - 116.42079).abs() <= 1.5e-5,
        "{gcj}"
    );
    assert_eq!(
        nodes[1]["location"],
        json!({ "latitude": 37.3312345, "longitude": 113.5712345 })
    );
    assert_eq!(nodes[2]["location"], Value::Null);
}

const IMPORT: &str = "mutation($file: Upload!, $dry: Boolean) { importOrganisation(file: $file, dryRun: $dry) { ok written unchanged errors { sheet row column reason } changes { kind sheet key action columns } setupCodes { login code } } }";

async fn upload(
    app: &TestApp,
    token: Option<&str>,
    name: &str,
    text: &str,
    dry: bool,
) -> GqlResponse {
    app.gql(IMPORT)
        .vars(json!({ "dry": dry }))
        .file_named("variables.file", name, text.as_bytes().to_vec())
        .bearer(token)
        .send()
        .await
}

async fn township_names(app: &TestApp) -> Vec<String> {
    let r = app
        .gql("{ townships(first: 50) { nodes { name } } }")
        .send()
        .await;
    r.data()["townships"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn import_organisation_reports_a_dry_run_then_imports_once() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let before = township_names(&app).await;
    let file = "编码 code,名称 name,类型 kind,排序 sort_order\nyixing,义兴镇,镇,0\nxinzhen,新镇,镇,20\nliyang,李阳新镇,镇,1\n";

    let dry = upload(&app, Some(&admin), "townships.csv", file, true).await;
    let report = &dry.data()["importOrganisation"];
    assert_eq!(
        (
            report["ok"].clone(),
            report["written"].clone(),
            report["unchanged"].clone()
        ),
        (json!(true), json!(false), json!(1))
    );
    assert_eq!(
        report["changes"],
        json!([
            { "kind": "townships", "sheet": "乡镇", "key": "xinzhen", "action": "CREATE", "columns": [] },
            { "kind": "townships", "sheet": "乡镇", "key": "liyang", "action": "UPDATE", "columns": ["名称"] },
        ])
    );
    assert_eq!(
        township_names(&app).await,
        before,
        "a dry run stores nothing"
    );

    let done = upload(&app, Some(&admin), "townships.csv", file, false).await;
    let report = &done.data()["importOrganisation"];
    assert_eq!(
        (report["ok"].clone(), report["written"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(report["changes"].as_array().unwrap().len(), 2);
    let after = township_names(&app).await;
    assert!(
        after.contains(&"新镇".to_owned()) && after.contains(&"李阳新镇".to_owned()),
        "{after:?}"
    );

    let again = upload(&app, Some(&admin), "townships.csv", file, false).await;
    let report = &again.data()["importOrganisation"];
    assert_eq!(
        (
            report["written"].clone(),
            report["changes"].clone(),
            report["unchanged"].clone()
        ),
        (json!(false), json!([]), json!(3))
    );
}

#[tokio::test]
async fn import_organisation_stores_nothing_from_a_failing_file_and_is_for_admins_only() {
    let app = TestApp::spawn_demo().await;
    let admin = app.token("admin").await;
    let before = township_names(&app).await;
    let file = "编码,名称,类型\nxinzhen,新镇,镇\nmafang,马坊镇,县城\n";
    let r = upload(&app, Some(&admin), "乡镇.csv", file, false).await;
    let report = &r.data()["importOrganisation"];
    assert_eq!(
        (report["ok"].clone(), report["written"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(
        report["errors"],
        json!([{ "sheet": "乡镇", "row": 3, "column": "类型", "reason": "取值须为镇、乡、城区之一" }])
    );
    assert_eq!(report["changes"], json!([]));
    assert_eq!(
        township_names(&app).await,
        before,
        "the good row is not stored either"
    );

    // A file of no known format is a report too, not an error.
    let r = upload(&app, Some(&admin), "notes.txt", "hello", true).await;
    let report = &r.data()["importOrganisation"];
    assert_eq!(report["ok"], json!(false));
    assert_eq!(report["errors"].as_array().unwrap().len(), 1, "{report}");

    for (login, code) in [("staff", "FORBIDDEN"), ("supervisor", "FORBIDDEN")] {
        let token = app.token(login).await;
        let r = upload(&app, Some(&token), "townships.csv", file, false).await;
        assert_eq!(r.error_code(), Some(code), "{login}: {}", r.body);
    }
    let r = upload(&app, None, "townships.csv", file, false).await;
    assert_eq!(r.error_code(), Some("UNAUTHENTICATED"));
    assert_eq!(township_names(&app).await, before);
}

#[tokio::test]
async fn import_organisation_checks_the_admin_first_and_the_audit_names_them() {
    let app = TestApp::spawn_demo().await;
    // A file that is no import at all: an admin is told what is wrong with it, anyone
    // else only that they may not import (the file is not read for them).
    let staff = app.token("staff").await;
    let r = upload(&app, Some(&staff), "notes.txt", "hello", true).await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"), "{}", r.body);
    let admin = app.token("admin").await;
    let r = upload(&app, Some(&admin), "notes.txt", "hello", true).await;
    assert_eq!(
        r.data()["importOrganisation"]["ok"],
        json!(false),
        "{}",
        r.body
    );

    let file = "登录名,显示名称,角色\nimported-clerk,导入的督办员,督办员\n";
    let r = upload(&app, Some(&admin), "accounts.csv", file, false).await;
    assert_eq!(
        r.data()["importOrganisation"]["written"],
        json!(true),
        "{}",
        r.body
    );
    let audit = |action: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let r = app
                .gql("query($a: String) { auditLog(action: $a, first: 5) { nodes { login detail } } }")
                .vars(json!({ "a": action }))
                .bearer(Some(&admin))
                .send()
                .await;
            r.data()["auditLog"]["nodes"].clone()
        }
    };
    let created = audit("account_created").await;
    assert!(
        created
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["login"] == "imported-clerk" && e["detail"] == "import by admin"),
        "{created}"
    );
    let imported = audit("organisation_imported").await;
    assert_eq!(
        imported,
        json!([{ "login": "admin", "detail": "1 changes" }])
    );
}

/// A deactivated deputy is paired no more, by a file as by `createPairing`: a row that
/// pairs one is an error and nothing is written.
#[tokio::test]
async fn a_deactivated_deputy_cannot_be_paired_by_a_file() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let app = TestApp::spawn().await;
    import_ok(&app, &[demo_files().to_str().unwrap()]).await;
    let pairings = std::fs::read_to_string(demo_files().join("13-pairings.csv")).unwrap();
    let leader = pairings
        .lines()
        .find(|l| l.starts_with("常委会领导包联乡镇,"))
        .and_then(|l| l.split(',').nth(1))
        .unwrap()
        .to_owned();
    entity::deputy::Entity::update_many()
        .col_expr(
            entity::deputy::Column::Active,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(entity::deputy::Column::Code.eq(&leader))
        .exec(&app.db)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pairings.csv",
        &format!("类型,联系代表编码,包联乡镇编码,起始日期\n常委会领导包联乡镇,{leader},yixing,2026-01-01\n"),
    );
    let run = import(&app, &[dir.path().to_str().unwrap()]).await;
    assert!(!run.ok, "{}", run.stdout);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("错误 pairings 第2行 [联系代表编码]")),
        "{}",
        run.stdout
    );
}
