//! README.md stays true: its links point into the repository.
use std::path::Path;

#[test]
fn every_relative_link_points_to_a_file_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut checked = 0;
    for (start, _) in readme.match_indices("](") {
        let rest = &readme[start + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = rest[..end].split('#').next().unwrap_or("");
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        assert!(
            root.join(target).exists(),
            "README.md links to {target}, which is not in the repository"
        );
        checked += 1;
    }
    assert!(checked >= 4, "{checked} links checked");
}
