//! Directories (issue 21 item 5): `GET /api/v1/enterprises`, `/stations`, `/staff`,
//! `/vehicles`, `/devices`, `/users` and the search on `/customers`: paged, searched by code
//! prefix or any part of a name (one or two Chinese characters included), filtered, as CSV,
//! scoped, never showing a key or a password hash, and refusing bad parameters by name.

use crate::access::PASSWORD;
use crate::common::{enterprise, spawn_app, station, TestApp};
use chrono::{Days, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;

/// A customer of `enterprise` named `name`.
fn customer(code: &str, enterprise: &str, name: &str) -> Value {
    json!({"code": code, "enterprise_code": enterprise, "name": name, "kind": "household",
           "phone": "13800000000", "address": "郑州", "location": {"lon": 113.66, "lat": 34.76},
           "district_code": "410105"})
}

/// The `key` field of every item of a page.
fn keys(page: &Value, key: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {page}"))
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

async fn get_as(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    app.send_json(Method::GET, path, None, Some(token)).await
}

/// ENT2 (district 410102, its gas licence expiring in 10 days) with station, customer, staff
/// member, vehicle, device and users; ENT1's customers, staff, vehicle and device.
async fn plant(app: &TestApp) {
    let soon = (Utc::now().date_naive() + Days::new(10)).to_string();
    let mut e2 = enterprise("ENT2");
    e2["name"] = json!("东方燃气");
    e2["district_code"] = json!("410102");
    e2["gas_licence_expires"] = json!(soon);
    assert_eq!(app.post_json("/api/v1/enterprises", &e2).await.0, 201);
    let mut s = station("ST9", "ENT2", "东方站", 113.55, 34.75);
    s["district_code"] = json!("410102");
    let posts = [
        ("/api/v1/stations", s),
        (
            "/api/v1/stations",
            station("ST1", "ENT1", "一号充装站", 113.62, 34.75),
        ),
        ("/api/v1/customers", customer("C-WANG", "ENT1", "王记")),
        ("/api/v1/customers", customer("C-LI", "ENT1", "李四烧烤店")),
        (
            "/api/v1/customers",
            customer("C-ZHAO", "ENT1", "赵王府饭庄"),
        ),
        ("/api/v1/customers", customer("D-1", "ENT1", "食堂")),
        ("/api/v1/customers", customer("D-2", "ENT1", "Percent_100%")),
        ("/api/v1/customers", customer("X-WANG", "ENT2", "王记分店")),
        (
            "/api/v1/staff",
            json!({"staff_no": "S1", "enterprise_code": "ENT1", "name": "陈荣华", "role": "filler",
                   "certificate_no": "TS-1", "certificate_expires": "2030-01-01"}),
        ),
        (
            "/api/v1/staff",
            json!({"staff_no": "S1", "enterprise_code": "ENT2", "name": "陈明", "role": "driver",
                   "certificate_no": "TS-2", "certificate_expires": soon}),
        ),
        (
            "/api/v1/staff",
            json!({"staff_no": "S2", "enterprise_code": "ENT1", "name": "刘洋", "role": "driver"}),
        ),
        (
            "/api/v1/vehicles",
            json!({"plate": "豫A12345", "enterprise_code": "ENT1"}),
        ),
        (
            "/api/v1/vehicles",
            json!({"plate": "豫B54321", "enterprise_code": "ENT2"}),
        ),
        (
            "/api/v1/devices",
            json!({"device_id": "ent1-gps", "kind": "gps", "enterprise_code": "ENT1"}),
        ),
        (
            "/api/v1/devices",
            json!({"device_id": "ent2-gps", "kind": "gps", "enterprise_code": "ENT2"}),
        ),
    ];
    for (path, body) in posts {
        let (status, answer) = app.post_json(path, &body).await;
        assert_eq!(status, 201, "{path} {body}: {answer}");
    }
    for (user, role, enterprise, district) in [
        ("a-admin", "enterprise_admin", Some("ENT1"), None),
        ("a-staff", "enterprise_staff", Some("ENT1"), None),
        ("b-admin", "enterprise_admin", Some("ENT2"), None),
        ("jinshui", "district_regulator", None, Some("410105")),
        ("erqi", "district_regulator", None, Some("410102")),
    ] {
        let body = json!({"username": user, "password": PASSWORD, "role": role,
                          "enterprise_code": enterprise, "district_code": district});
        let (status, answer) = app.post_json("/api/v1/users", &body).await;
        assert_eq!(status, 201, "{user}: {answer}");
    }
}

#[tokio::test]
async fn directories_search_by_name_part_and_code_prefix_filter_and_page() {
    let app = spawn_app().await;
    plant(&app).await;

    // A two-character name, a one-character part, a part in the middle, a code prefix.
    let (status, page) = app.get_json("/api/v1/customers?q=王记").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(keys(&page, "code"), ["C-WANG", "X-WANG"]);
    let (_, page) = app.get_json("/api/v1/customers?q=王").await;
    assert_eq!(keys(&page, "code"), ["C-WANG", "C-ZHAO", "X-WANG"]);
    let (_, page) = app.get_json("/api/v1/customers?q=烧烤").await;
    assert_eq!(keys(&page, "code"), ["C-LI"]);
    let (_, page) = app.get_json("/api/v1/customers?q=C-").await;
    assert_eq!(keys(&page, "code"), ["C-LI", "C-WANG", "C-ZHAO"]);
    // LIKE's wildcards are text: `_` and `%` match themselves only.
    let (_, page) = app.get_json("/api/v1/customers?q=D_").await;
    assert_eq!(keys(&page, "code"), Vec::<String>::new());
    let (_, page) = app.get_json("/api/v1/customers?q=t_1").await;
    assert_eq!(keys(&page, "code"), ["D-2"]);
    // Upper and lower case alike in names.
    let (_, page) = app.get_json("/api/v1/customers?q=percent").await;
    assert_eq!(keys(&page, "code"), ["D-2"]);
    let (_, page) = app.get_json("/api/v1/enterprises?q=东方").await;
    assert_eq!(keys(&page, "code"), ["ENT2"]);
    assert_eq!(page["items"][0]["status"], "active");
    assert_eq!(page["items"][0]["version"], 1);
    assert_eq!(page["items"][0]["district_code"], "410102");
    let (_, page) = app.get_json("/api/v1/stations?q=东").await;
    assert_eq!(keys(&page, "code"), ["ST9"]);
    let (_, page) = app.get_json("/api/v1/staff?q=陈").await;
    assert_eq!(keys(&page, "enterprise_code"), ["ENT1", "ENT2"]);
    let (_, page) = app.get_json("/api/v1/vehicles?q=A123").await;
    assert_eq!(keys(&page, "plate"), ["豫A12345"]);
    let (_, page) = app.get_json("/api/v1/devices?q=ent2").await;
    assert_eq!(keys(&page, "device_id"), ["ent2-gps"]);
    let (_, page) = app.get_json("/api/v1/users?q=jin").await;
    assert_eq!(keys(&page, "username"), ["jinshui"]);

    // Filters: status, district, enterprise, expiring licences and certificates.
    sqlx::query("UPDATE customers SET status = 'suspended' WHERE code = 'C-LI'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (_, page) = app.get_json("/api/v1/customers?status=suspended").await;
    assert_eq!(keys(&page, "code"), ["C-LI"]);
    let (_, page) = app.get_json("/api/v1/customers?q=C-&status=active").await;
    assert_eq!(keys(&page, "code"), ["C-WANG", "C-ZHAO"]);
    let (_, page) = app.get_json("/api/v1/stations?district_code=410102").await;
    assert_eq!(keys(&page, "code"), ["ST9"]);
    let (_, page) = app.get_json("/api/v1/vehicles?enterprise_code=ENT2").await;
    assert_eq!(keys(&page, "plate"), ["豫B54321"]);
    let (_, page) = app
        .get_json("/api/v1/enterprises?licence_expiring_within_days=30")
        .await;
    assert_eq!(keys(&page, "code"), ["ENT2"]);
    let (_, page) = app
        .get_json("/api/v1/enterprises?licence_expiring_within_days=5")
        .await;
    assert_eq!(keys(&page, "code"), Vec::<String>::new());
    let (_, page) = app
        .get_json("/api/v1/staff?licence_expiring_within_days=30")
        .await;
    // ENT1's S2 has no certificate: as good as expired.
    assert_eq!(keys(&page, "enterprise_code"), ["ENT1", "ENT2"]);
    let (_, page) = app.get_json("/api/v1/staff?status=closed").await;
    assert_eq!(keys(&page, "staff_no"), Vec::<String>::new());
    let (_, page) = app.get_json("/api/v1/users?district_code=410102").await;
    assert_eq!(keys(&page, "username"), ["b-admin", "erqi"]);

    // Paging: every record once, in order, two at a time (staff: the same number in two
    // enterprises).
    for (path, key, count) in [
        ("/api/v1/customers?", "code", 6),
        ("/api/v1/staff?", "staff_no", 3),
        ("/api/v1/enterprises?", "code", 2),
        ("/api/v1/users?", "username", 6),
    ] {
        let (mut seen, mut cursor) = (Vec::new(), None::<String>);
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}limit=2&cursor={}", urlencode(c)),
                None => format!("{path}limit=2"),
            };
            let (status, page) = app.get_json(&url).await;
            assert_eq!(status, 200, "{url}: {page}");
            for item in page["items"].as_array().unwrap() {
                let id = format!("{}/{}", item["enterprise_code"], item[key]);
                seen.push(id);
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{path}: duplicates in {seen:?}");
        assert_eq!(seen.len(), count, "{path}: {seen:?}");
    }

    // CSV: a header and the rows, cells neutralised.
    sqlx::query("UPDATE enterprises SET name = '=HYPERLINK(1)' WHERE code = 'ENT2'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (status, csv) = app.get_text("/api/v1/enterprises?format=csv").await;
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("code,name,district_code,status,version"),
        "{csv}"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[2].starts_with("ENT2,'=HYPERLINK(1),410102,active,1"),
        "{csv}"
    );
    for path in [
        "/api/v1/stations?format=csv",
        "/api/v1/staff?format=csv&q=陈",
        "/api/v1/vehicles?format=csv",
        "/api/v1/devices?format=csv",
        "/api/v1/users?format=csv",
        "/api/v1/customers?format=csv&q=王",
    ] {
        let (status, csv) = app.get_text(path).await;
        assert_eq!(status, 200, "{path}: {csv}");
        assert!(csv.lines().count() >= 3, "{path}: {csv}");
    }
    let (_, csv) = app.get_text("/api/v1/customers?format=csv&q=王记").await;
    assert_eq!(csv.lines().count(), 3, "{csv}");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn directories_are_scoped_and_show_no_keys_or_password_hashes() {
    let app = spawn_app().await;
    plant(&app).await;
    let a_admin = app.login("a-admin", PASSWORD).await;
    let a_staff = app.login("a-staff", PASSWORD).await;
    let jinshui = app.login("jinshui", PASSWORD).await;
    let lists = [
        "/api/v1/enterprises",
        "/api/v1/stations",
        "/api/v1/staff",
        "/api/v1/vehicles",
        "/api/v1/devices",
        "/api/v1/customers",
        "/api/v1/customers?q=王记",
        "/api/v1/staff?q=陈",
        "/api/v1/enterprises?licence_expiring_within_days=30",
        "/api/v1/enterprises?format=csv",
        "/api/v1/staff?format=csv",
        "/api/v1/vehicles?format=csv",
        "/api/v1/devices?format=csv",
    ];
    for (who, token) in [
        ("A admin", &a_admin),
        ("A staff", &a_staff),
        ("Jinshui", &jinshui),
    ] {
        for path in lists {
            let response = app
                .client
                .get(app.url(path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert_eq!(status, 200, "{who} {path}: {text}");
            for b in ["ENT2", "东方", "X-WANG", "豫B54321", "ent2-gps", "陈明"] {
                assert!(!text.contains(b), "{who} {path} shows B ({b}): {text}");
            }
        }
        // Asking for B's enterprise by name is as if it did not exist.
        for path in [
            "/api/v1/stations?enterprise_code=ENT2",
            "/api/v1/staff?enterprise_code=ENT2",
            "/api/v1/users?enterprise_code=ENT2",
        ] {
            let (status, answer) = get_as(&app, path, token).await;
            if who == "A staff" && path.starts_with("/api/v1/users") {
                assert_eq!(status, 403, "{who} {path}: {answer}");
            } else {
                assert_eq!(status, 404, "{who} {path}: {answer}");
            }
        }
        // What A may see, it sees.
        let (_, page) = get_as(&app, "/api/v1/customers?q=王", token).await;
        assert_eq!(keys(&page, "code"), ["C-WANG", "C-ZHAO"], "{who}");
    }
    // Users: an enterprise admin its own, a district regulator its district's, staff none.
    let (_, page) = get_as(&app, "/api/v1/users", &a_admin).await;
    assert_eq!(keys(&page, "username"), ["a-admin", "a-staff"]);
    let (_, page) = get_as(&app, "/api/v1/users", &jinshui).await;
    let names = keys(&page, "username");
    assert!(names.contains(&"jinshui".to_owned()) && names.contains(&"a-admin".to_owned()));
    assert!(
        !names
            .iter()
            .any(|n| n == "b-admin" || n == "erqi" || n == "admin"),
        "{names:?}"
    );
    let (status, answer) = get_as(&app, "/api/v1/users", &a_staff).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (403, &json!("forbidden"))
    );
    // Never a password hash, never a device key or its hash.
    let (_, users) = app.get_text("/api/v1/users").await;
    let (_, users_csv) = app.get_text("/api/v1/users?format=csv").await;
    let hashes: Vec<String> = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    for hash in &hashes {
        assert!(!users.contains(hash.as_str()) && !users_csv.contains(hash.as_str()));
    }
    assert!(
        !users.contains("password") && !users.contains("$argon2"),
        "{users}"
    );
    let (_, devices) = app.get_text("/api/v1/devices").await;
    let (_, devices_csv) = app.get_text("/api/v1/devices?format=csv").await;
    let key_hashes: Vec<String> =
        sqlx::query_scalar("SELECT key_hash FROM devices WHERE key_hash IS NOT NULL")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert!(!key_hashes.is_empty());
    for hash in &key_hashes {
        assert!(!devices.contains(hash.as_str()) && !devices_csv.contains(hash.as_str()));
    }
    assert!(!devices.contains("key"), "{devices}");
}

#[tokio::test]
async fn bad_directory_parameters_are_refused_naming_the_field() {
    let app = spawn_app().await;
    for (path, field) in [
        (
            "/api/v1/enterprises?licence_expiring_within_days=-1",
            "licence_expiring_within_days",
        ),
        (
            "/api/v1/staff?licence_expiring_within_days=abc",
            "licence_expiring_within_days",
        ),
        (
            "/api/v1/enterprises?licence_expiring_within_days=99999",
            "licence_expiring_within_days",
        ),
        ("/api/v1/stations?status=gone", "status"),
        ("/api/v1/customers?status=gone", "status"),
        ("/api/v1/vehicles?q=", "q"),
        ("/api/v1/customers?q=%20%20", "q"),
        (&*format!("/api/v1/devices?q={}", "x".repeat(65)), "q"),
        ("/api/v1/users?q=%01", "q"),
        ("/api/v1/enterprises?limit=0", "limit"),
        ("/api/v1/staff?limit=abc", "limit"),
        ("/api/v1/stations?format=xml", "format"),
        ("/api/v1/staff?cursor=nocursor", "cursor"),
        ("/api/v1/vehicles?enterprise_code=a%2Fb", "enterprise_code"),
        ("/api/v1/devices?district_code=%E7%AB%99", "district_code"),
    ] {
        let (status, answer) = app.get_json(path).await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_query", "{path}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{path}: {answer}");
    }
    // A filter a directory does not have is refused too.
    let (status, answer) = app
        .get_json("/api/v1/stations?licence_expiring_within_days=3")
        .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (400, &json!("invalid_query"))
    );
}

/// POSTs a CSV as `token`.
async fn post_csv(app: &TestApp, path: &str, csv: &str, token: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// `(row, column, code)` of each error of a 422.
fn row_errors(answer: &Value) -> Vec<(u64, String, String)> {
    answer["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {answer}"))
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap_or_default().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn csv_imports_of_customers_staff_and_vehicles_are_all_or_nothing() {
    let app = spawn_app().await;
    plant(&app).await;
    let a_admin = app.login("a-admin", PASSWORD).await;
    let admin = app.admin_token.clone();

    // Customers: every bad row named by line and column, nothing written.
    let before = count(&app, "customers").await;
    let bad =
        "code,enterprise_code,name,kind,phone,address,lon,lat,district_code,full_stock_limit\n\
               N-1,ENT1,新一,household,1,郑州,113.66,34.76,410105,\n\
               N-2,ENT1,新二,castle,1,郑州,113.66,34.76,410105,\n\
               C-WANG,ENT1,重复,household,1,郑州,113.66,34.76,410105,3\n\
               N-3,ENT2,他家,household,1,郑州,113.66,34.76,410105,\n\
               N-4,ENT1,远方,household,1,郑州,113.66,34.76,410102,\n\
               N-1,ENT1,又一,household,1,郑州,113.66,34.76,410105,\n\
               N-5,ENT1,坏点,household,1,郑州,east,34.76,410105,\n";
    let (status, answer) = post_csv(&app, "/api/v1/customers/import", bad, &a_admin).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_rows", "{answer}");
    assert_eq!(
        row_errors(&answer),
        [
            (3, "kind".to_owned(), "invalid_field".to_owned()),
            (
                5,
                "enterprise_code".to_owned(),
                "unknown_reference".to_owned()
            ),
            (
                6,
                "district_code".to_owned(),
                "district_mismatch".to_owned()
            ),
            (7, "code".to_owned(), "already_exists".to_owned()),
            (8, "lon".to_owned(), "invalid_field".to_owned()),
        ],
        "{answer}"
    );
    assert_eq!(count(&app, "customers").await, before);
    // A clash with the registry shows only when writing: still nothing written.
    let clash = "code,enterprise_code,name,kind,phone,address,lon,lat,district_code\n\
                 N-1,ENT1,新一,household,1,郑州,113.66,34.76,410105\n\
                 C-WANG,ENT1,重复,household,1,郑州,113.66,34.76,410105\n";
    let (status, answer) = post_csv(&app, "/api/v1/customers/import", clash, &a_admin).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        row_errors(&answer),
        [(3, "code".to_owned(), "already_exists".to_owned())]
    );
    assert_eq!(count(&app, "customers").await, before);
    let good = "code,enterprise_code,name,kind,phone,address,lon,lat,district_code,licence_no\n\
                N-1,ENT1,新一,household,1,郑州,113.66,34.76,410105,\n\
                N-2,ENT1,新二,restaurant,1,郑州,113.66,34.76,410105,N2O-7\n";
    // A licence for controlled media is the regulator's to record: the enterprise's upload
    // with one is refused on that row, nothing written; the regulator's goes in.
    let (status, answer) = post_csv(&app, "/api/v1/customers/import", good, &a_admin).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        row_errors(&answer),
        [(3, "licence_no".to_owned(), "forbidden".to_owned())]
    );
    assert_eq!(count(&app, "customers").await, before);
    let (status, answer) = post_csv(&app, "/api/v1/customers/import", good, &admin).await;
    assert_eq!((status, &answer["created"]), (200, &json!(2)), "{answer}");
    let (_, page) = app.get_json("/api/v1/customers?q=新").await;
    assert_eq!(keys(&page, "code"), ["N-1", "N-2"]);

    // Staff: a number may repeat across enterprises, not within one.
    let before = count(&app, "staff").await;
    let staff = "staff_no,enterprise_code,name,role,certificate_no,certificate_expires\n\
                 S7,ENT1,张三,driver,,\n\
                 S7,ENT1,李四,driver,,\n\
                 S8,ENT1,王五,filler,TS-8,\n\
                 S1,ENT1,重号,driver,,\n";
    let (status, answer) = post_csv(&app, "/api/v1/staff/import", staff, &admin).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        row_errors(&answer),
        [
            (3, "staff_no".to_owned(), "already_exists".to_owned()),
            (
                4,
                "certificate_expires".to_owned(),
                "invalid_field".to_owned()
            ),
        ],
        "{answer}"
    );
    assert_eq!(count(&app, "staff").await, before);
    let staff = "staff_no,enterprise_code,name,role,certificate_no,certificate_expires\n\
                 S7,ENT1,张三,driver,,\n\
                 S7,ENT2,李四,driver,TS-9,2031-01-01\n";
    let (status, answer) = post_csv(&app, "/api/v1/staff/import", staff, &admin).await;
    assert_eq!((status, &answer["created"]), (200, &json!(2)), "{answer}");
    assert_eq!(count(&app, "staff").await, before + 2);

    // A suspended enterprise gets no new records, in bulk neither.
    sqlx::query("UPDATE enterprises SET status = 'suspended' WHERE code = 'ENT2'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let before = count(&app, "staff").await;
    let staff = "staff_no,enterprise_code,name,role\nS10,ENT1,甲,driver\nS10,ENT2,乙,driver\n";
    let (status, answer) = post_csv(&app, "/api/v1/staff/import", staff, &admin).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        row_errors(&answer),
        [(
            3,
            "enterprise_code".to_owned(),
            "record_inactive".to_owned()
        )]
    );
    assert_eq!(count(&app, "staff").await, before);
    sqlx::query("UPDATE enterprises SET status = 'active' WHERE code = 'ENT2'")
        .execute(&app.db.pool)
        .await
        .unwrap();

    // Vehicles: A's admin may not register B's.
    let before = count(&app, "vehicles").await;
    let vehicles = "plate,enterprise_code\n豫A00001,ENT1\n豫B00002,ENT2\n";
    let (status, answer) = post_csv(&app, "/api/v1/vehicles/import", vehicles, &a_admin).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        row_errors(&answer),
        [(
            3,
            "enterprise_code".to_owned(),
            "unknown_reference".to_owned()
        )]
    );
    assert_eq!(count(&app, "vehicles").await, before);
    let vehicles = "plate,enterprise_code,gps_device_id\n豫A00001,ENT1,\n豫A00003,ENT1,ent1-gps\n";
    let (status, answer) = post_csv(&app, "/api/v1/vehicles/import", vehicles, &a_admin).await;
    assert_eq!((status, &answer["created"]), (200, &json!(2)), "{answer}");

    // A file that is not the sheet is refused whole, naming the column.
    for (path, csv, code, field) in [
        (
            "/api/v1/vehicles/import",
            "plate,enterprise_code,colour\nX,ENT1,red\n",
            "unknown_field",
            "colour",
        ),
        (
            "/api/v1/staff/import",
            "staff_no,name,role\nS9,x,driver\n",
            "missing_field",
            "enterprise_code",
        ),
    ] {
        let (status, answer) = post_csv(&app, path, csv, &admin).await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert_eq!(
            (
                answer["error"]["code"].as_str(),
                answer["error"]["field"].as_str()
            ),
            (Some(code), Some(field)),
            "{answer}"
        );
    }
    let (status, answer) = post_csv(
        &app,
        "/api/v1/vehicles/import",
        "plate,enterprise_code\n",
        &admin,
    )
    .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (400, &json!("invalid_batch_size")),
        "{answer}"
    );
    // Staff of an enterprise may not register in bulk.
    let a_staff = app.login("a-staff", PASSWORD).await;
    let (status, _) = post_csv(&app, "/api/v1/vehicles/import", vehicles, &a_staff).await;
    assert_eq!(status, 403);
}

/// Review fix 6: a licence or certificate with no date at all is as good as expired (R01/R02
/// refuse it): `licence_expiring_within_days` lists it.
#[tokio::test]
async fn a_record_with_no_licence_date_counts_as_expiring() {
    let app = spawn_app().await;
    plant(&app).await;
    let (status, answer) = app
        .post_json("/api/v1/enterprises", &enterprise("ENT3"))
        .await;
    assert_eq!(status, 201, "{answer}");
    // The API asks for the date; a record from before it (or an import) may lack it.
    sqlx::query("UPDATE enterprises SET gas_licence_expires = NULL WHERE code = 'ENT3'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (status, page) = app
        .get_json("/api/v1/enterprises?licence_expiring_within_days=5")
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(keys(&page, "code"), ["ENT3"]);
    // S2 of ENT1 has no certificate; S1 of ENT2's expires in 10 days.
    let (_, page) = app
        .get_json("/api/v1/staff?licence_expiring_within_days=30")
        .await;
    let mut found: Vec<(String, String)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["enterprise_code"].as_str().unwrap().to_owned(),
                i["staff_no"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("ENT1".to_owned(), "S2".to_owned()),
            ("ENT2".to_owned(), "S1".to_owned())
        ]
    );
    let (_, page) = app
        .get_json("/api/v1/staff?licence_expiring_within_days=5")
        .await;
    assert_eq!(keys(&page, "staff_no"), ["S2"]);
}
