//! `schema.graphql` is generated from the code and must match what is served.
use crate::helpers::TestApp;

#[tokio::test]
async fn schema_file_matches_the_served_schema() {
    let app = TestApp::spawn().await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let on_disk = std::fs::read_to_string(&path).expect("schema.graphql exists");
    assert!(
        on_disk == app.sdl,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
    assert_eq!(
        smart_npc::graphql::sdl(),
        app.sdl,
        "`smart-npc schema` prints the served schema"
    );
    for contract in [
        "townships(",
        "stations(",
        "deputies(",
        "departments(",
        "node(id: ID!): Node",
        "nodes(ids: [ID!]!)",
        "totalCount: Int!",
        "enum StationKind",
    ] {
        assert!(on_disk.contains(contract), "missing {contract}");
    }
}
