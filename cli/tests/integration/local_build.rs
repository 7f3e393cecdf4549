//! The local-only CLI (`--no-default-features`, what `scripts/demo.sh` builds for the first
//! Quick-start command) links no AWS SDK and no Lambda runtime: those live behind the CLI's `aws`
//! feature and the handler crates' `lambda` feature.

use std::process::Command;

#[test]
fn the_local_only_cli_depends_on_no_aws_sdk() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("cli/ has a parent");
    let out = Command::new(env!("CARGO"))
        .args(["tree", "-p", "db-admin-report", "--no-default-features", "-e", "normal"])
        .args(["--prefix", "none", "--format", "{p}"])
        .current_dir(root)
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(crates.contains(&"dbadmin-collector"), "the tree names the handler crates: {tree}");
    let aws: Vec<&&str> = crates
        .iter()
        .filter(|c| {
            c.starts_with("aws-sdk-")
                || c.starts_with("aws-config")
                || c.starts_with("lambda_runtime")
                || **c == "dbadmin-aws"
        })
        .collect();
    assert!(aws.is_empty(), "the local-only CLI depends on {aws:?}");
}
