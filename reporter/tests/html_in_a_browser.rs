//! `report.html` as a person sees it: rendered by a real browser (Debian's Chromium, headless),
//! asserted on the text the browser shows, with principal names that hold markup and formulas.
//! `scripts/test.sh` installs Chromium and runs this test; a plain `cargo test` lists it as ignored
//! ("needs Chromium"), and when asked for without Chromium it fails saying so.

use dbadmin_reporter::html::{Html, PageFacts, Previous};
use dbadmin_reporter::render::Row;
use dbadmin_reporter::review::Signals;
use std::process::Command;

fn chromium() -> &'static str {
    let found =
        ["chromium", "chromium-browser"].into_iter().find(|c| Command::new(c).arg("--version").output().is_ok());
    found.expect("Chromium is not installed (apt-get install chromium; scripts/test.sh does)")
}

/// The text a person reads: the DOM with its tags dropped, entities decoded and white space folded.
fn visible_text(dom: &str) -> String {
    let body = dom.split_once("<body>").map_or(dom, |(_, b)| b);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn row(db: &str, user: &str, level: &str) -> Row {
    Row {
        account_id: "111111111111".into(),
        region: "eu-west-1".into(),
        database_name: db.into(),
        database_type: "mysql".into(),
        endpoint: "db.example:3306".into(),
        username: user.into(),
        user_host: "%".into(),
        principal_type: "USER".into(),
        permission_level: level.into(),
        privilege: "SUPER".into(),
        scope: "*.*".into(),
        admin_reason: "global SUPER".into(),
        grant_path: format!("{user} -> SUPER"),
        collection_status: "OK".into(),
        ..Row::default()
    }
}

/// A page whose principal names hold markup and formulas: orders (one admin unapproved, holding
/// two privileges; two approved), billing (a single admin, signalled) and ledger (not read),
/// compared with a report signed before in which orders had one principal.
fn page_with_hostile_names() -> Vec<u8> {
    let mut page = Html::new("01HTMLTEST", 2, "2026-12-02T10:00:00Z");
    // The report signed before: orders had one admin, who is still there.
    let before = [row("orders", "reader", "ELEVATED"), row("billing", "<img src=x onerror=alert(1)>", "ADMIN")];
    page.compare_with(Previous::Report {
        label: "report 01PREVIOUS v1".into(),
        sides: dbadmin_reporter::diff::sides(&before),
    });
    let approved = |r: Row| Row {
        review_status: "APPROVED".into(),
        approved_by: "Carol <CISO>".into(),
        approval_ticket: "SEC-42".into(),
        ..r
    };
    let unapproved = |r: Row| Row { review_status: "UNAPPROVED".into(), ..r };
    let script = "<script>document.title='pwned'</script>";
    page.target(
        &[
            unapproved(row("orders", script, "ADMIN")),
            unapproved(Row {
                privilege: "PROCESS".into(),
                admin_reason: "global PROCESS".into(),
                grant_path: format!("{script} -> PROCESS"),
                ..row("orders", script, "ELEVATED")
            }),
            approved(row("orders", "=HYPERLINK(\"http://x\")", "ADMIN")),
            approved(row("orders", "reader", "ELEVATED")),
        ],
        &Signals::default(),
    );
    page.target(
        &[approved(row("billing", "<img src=x onerror=alert(1)>", "ADMIN"))],
        &Signals {
            admins: Some(1),
            codes: vec!["SINGLE_ADMIN"],
            details: vec!["<img src=x onerror=alert(1)>@% is the only admin that can log in".into()],
        },
    );
    page.target(
        &[Row {
            collection_status: "ERROR".into(),
            error_kind: "timeout".into(),
            admin_reason: "connecting took longer than 10s".into(),
            ..row("ledger", "", "")
        }],
        &Signals { admins: None, codes: vec!["ERROR"], details: vec![] },
    );
    page.finish(&PageFacts {
        requested_by: "arn:aws:iam::111111111111:user/ops",
        requested_at: "2026-12-02T09:59:00Z",
        signer: "arn:aws:kms:eu-west-1:111111111111:key/abc",
        reconciliation: None,
        baseline: Some(("s3://evidence/baseline.csv", "ab12")),
    })
}

#[test]
#[ignore = "needs Chromium (scripts/test.sh installs it)"]
fn the_browser_shows_escaped_names_errors_first_and_a_chart() {
    let browser = chromium();
    let bytes = page_with_hostile_names();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    std::fs::write(&file, &bytes).unwrap();
    let url = format!("file://{}", file.display());
    let run = |extra: &[&str]| {
        Command::new(browser)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=2000"])
            .args(extra)
            .arg(&url)
            .output()
            .expect("run chromium")
    };
    let dom = run(&["--dump-dom"]);
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    // The title the page set, not one a principal name's script set.
    assert!(dom.contains("<title>Database administrator access — report 01HTMLTEST v2</title>"), "{dom}");
    // Names are shown as text: the browser made no element of them.
    // MySQL-style accounts are quoted as the server writes them (quotes inside doubled).
    assert!(dom.contains("'&lt;script&gt;document.title=''pwned''&lt;/script&gt;'@'%'"), "{dom}");
    assert!(dom.contains("'&lt;img src=x onerror=alert(1)&gt;'@'%'"), "{dom}");
    assert!(!dom.contains("<img") && !dom.contains("<script"), "{dom}");
    assert!(dom.contains("'=HYPERLINK(\"http://x\")'@'%'"), "{dom}");
    // What needs attention comes first; the chart is drawn.
    let (error, tables) = (dom.find("connecting took longer than 10s").unwrap(), dom.find("Every database").unwrap());
    assert!(error < tables);
    assert!(dom.matches("<rect").count() >= 3, "bars for orders, billing, ledger and the engine");
    // Review signals and the baseline come before the tables too.
    let text = visible_text(&dom);
    let signal = text.find("billing SINGLE_ADMIN <img src=x onerror=alert(1)>@% is the only admin").expect(&text);
    let unapproved = text.find("orders '<script>document.title=''pwned''</script>'@'%' ADMIN UNAPPROVED").expect(&text);
    let every = text.find("Every database").unwrap();
    assert!(signal < every && unapproved < every, "{text}");
    assert!(text.contains("APPROVED by Carol <CISO> (SEC-42)"), "{text}");
    assert!(text.contains("Read against the approved-admin baseline s3://evidence/baseline.csv"), "{text}");
    // What changed since the report signed before: two admins added on orders; ledger is new.
    assert!(
        text.contains("Compared with report 01PREVIOUS v1, the report signed before this one: 2 admin(s) added, 0 removed, 0 changed; 1 database(s) new in this report"),
        "{text}"
    );
    assert!(text.contains("added orders '=HYPERLINK(\"http://x\")'@'%' ADMIN [SUPER (*.*)]"), "{text}");
    // One table row per principal, its privileges listed inside it.
    let orders = &dom[dom.find("<h3>orders").expect(&dom)..];
    let orders = &orders[..orders.find("</section>").unwrap()];
    let script_rows: Vec<&str> = orders.split("<tr").filter(|r| r.contains("document.title")).collect();
    assert_eq!(script_rows.len(), 1, "{orders}");
    assert_eq!(orders.matches("<tr").count(), 1 + 3, "a head row and three principals: {orders}");
    let script_row = visible_text(&format!("<body><tr{}", script_rows[0]));
    assert!(
        script_row.contains(
            "USER ADMIN SUPER on *.*: global SUPER <script>document.title='pwned'</script> -> SUPER \
             PROCESS on *.* (ELEVATED): global PROCESS <script>document.title='pwned'</script> -> PROCESS UNAPPROVED"
        ),
        "{script_row}"
    );
    // A picture for the record (kept when DBADMIN_HTML_SCREENSHOT names a file).
    if let Ok(path) = std::env::var("DBADMIN_HTML_SCREENSHOT") {
        let shot = run(&[&format!("--screenshot={path}"), "--window-size=1280,1400"]);
        assert!(shot.status.success() && std::path::Path::new(&path).exists());
    }
}
